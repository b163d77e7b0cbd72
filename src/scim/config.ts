/**
 * The `scim` configuration section: the SCIM 2.0 service provider at `/_gatehouse/scim/v2`
 * (src/scim/http.ts, docs/identity.md "SCIM provisioning").
 */
import { z } from 'zod';

export const scimSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(false)
      .describe('Serve the SCIM 2.0 service provider at `/_gatehouse/scim/v2` (RFC 7643/7644). Only SCIM bearer tokens (`gatehouse scim-tokens create NAME`) are accepted there, and they are accepted nowhere else.'),
    maxResults: z.number().int().min(1).max(10_000).default(200).describe('Most resources one list or search answer holds (`filter.maxResults` in ServiceProviderConfig); a larger `count` is lowered to it.'),
  })
  .prefault({})
  .describe('SCIM 2.0 provisioning (docs/identity.md, "SCIM provisioning").');

export type ScimConfig = z.infer<typeof scimSchema>;
