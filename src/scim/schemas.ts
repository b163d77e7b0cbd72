/**
 * What the SCIM service provider says of itself (RFC 7644 §4): ServiceProviderConfig,
 * ResourceTypes and Schemas. The schemas declare the subset of RFC 7643 §4 and §8.7 Gatehouse
 * keeps; a client's other attributes are not stored. `password` is not among them: a SCIM user
 * signs in through its identity provider or uses personal tokens, never a password SCIM set.
 */

/** SCIM's media type (RFC 7644 §3.1); clients also send plain JSON. */
export const SCIM_JSON = 'application/scim+json';

export const URN = {
  user: 'urn:ietf:params:scim:schemas:core:2.0:User',
  group: 'urn:ietf:params:scim:schemas:core:2.0:Group',
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  list: 'urn:ietf:params:scim:api:messages:2.0:ListResponse',
  patch: 'urn:ietf:params:scim:api:messages:2.0:PatchOp',
  error: 'urn:ietf:params:scim:api:messages:2.0:Error',
  spc: 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig',
  resourceType: 'urn:ietf:params:scim:schemas:core:2.0:ResourceType',
  schema: 'urn:ietf:params:scim:schemas:core:2.0:Schema',
} as const;

type Type = 'string' | 'boolean' | 'complex' | 'reference' | 'dateTime' | 'integer' | 'decimal' | 'binary';

interface AttrOptions {
  readonly multiValued?: boolean;
  readonly required?: boolean;
  readonly caseExact?: boolean;
  readonly mutability?: 'readOnly' | 'readWrite' | 'immutable' | 'writeOnly';
  readonly uniqueness?: 'none' | 'server' | 'global';
  readonly canonicalValues?: readonly string[];
  readonly referenceTypes?: readonly string[];
  readonly subAttributes?: readonly object[];
  readonly description?: string;
}

function attr(name: string, type: Type, o: AttrOptions = {}) {
  return {
    name,
    type,
    multiValued: o.multiValued ?? false,
    description: o.description ?? name,
    required: o.required ?? false,
    caseExact: o.caseExact ?? false,
    mutability: o.mutability ?? 'readWrite',
    returned: 'default',
    uniqueness: o.uniqueness ?? 'none',
    ...(o.canonicalValues && { canonicalValues: o.canonicalValues }),
    ...(o.referenceTypes && { referenceTypes: o.referenceTypes }),
    ...(o.subAttributes && { subAttributes: o.subAttributes }),
  };
}

const str = (name: string, o: AttrOptions = {}) => attr(name, 'string', o);

/** value/display/type/primary, as RFC 7643 §2.4 gives multi-valued attributes. */
const multi = (name: string, types: readonly string[]) =>
  attr(name, 'complex', {
    multiValued: true,
    subAttributes: [str('value'), str('display'), str('type', { canonicalValues: types }), attr('primary', 'boolean')],
  });

const USER = {
  id: URN.user,
  name: 'User',
  description: 'User Account',
  attributes: [
    str('userName', { required: true, uniqueness: 'server', description: 'Unique identifier for the User; the Gatehouse user name it is created with.' }),
    attr('name', 'complex', {
      subAttributes: [str('formatted'), str('familyName'), str('givenName'), str('middleName'), str('honorificPrefix'), str('honorificSuffix')],
    }),
    str('displayName'),
    str('nickName'),
    str('title'),
    str('userType'),
    str('preferredLanguage'),
    str('locale'),
    str('timezone'),
    attr('active', 'boolean', { description: 'false: the user is disabled, its sessions end and its tokens stop.' }),
    multi('emails', ['work', 'home', 'other']),
    multi('phoneNumbers', ['work', 'home', 'mobile', 'fax', 'pager', 'other']),
    attr('groups', 'complex', {
      multiValued: true,
      mutability: 'readOnly',
      subAttributes: [
        str('value', { mutability: 'readOnly' }),
        attr('$ref', 'reference', { mutability: 'readOnly', referenceTypes: ['Group'] }),
        str('display', { mutability: 'readOnly' }),
        str('type', { mutability: 'readOnly', canonicalValues: ['direct'] }),
      ],
    }),
  ],
};

const ENTERPRISE = {
  id: URN.enterprise,
  name: 'EnterpriseUser',
  description: 'Enterprise User',
  attributes: [
    str('employeeNumber'),
    str('costCenter'),
    str('organization'),
    str('division'),
    str('department'),
    attr('manager', 'complex', {
      subAttributes: [str('value'), attr('$ref', 'reference', { referenceTypes: ['User'] }), str('displayName', { mutability: 'readOnly' })],
    }),
  ],
};

const GROUP = {
  id: URN.group,
  name: 'Group',
  description: 'Group',
  attributes: [
    str('displayName', { required: true, uniqueness: 'server', description: 'The group name bindings name (`group: X`).' }),
    attr('members', 'complex', {
      multiValued: true,
      subAttributes: [
        str('value', { mutability: 'immutable' }),
        attr('$ref', 'reference', { mutability: 'immutable', referenceTypes: ['User'] }),
        str('display', { mutability: 'readOnly' }),
        str('type', { mutability: 'immutable', canonicalValues: ['User'] }),
      ],
    }),
  ],
};

export const SCHEMAS = [USER, ENTERPRISE, GROUP] as const;

/** The attributes the door keeps of a user beyond userName, externalId and active. */
export const USER_ATTRIBUTES = new Set(USER.attributes.map((a) => a.name).filter((n) => !['userName', 'active', 'groups'].includes(n)));
export const ENTERPRISE_ATTRIBUTES = new Set(ENTERPRISE.attributes.map((a) => a.name));

export function schemaResource(base: string, s: (typeof SCHEMAS)[number]) {
  return { schemas: [URN.schema], ...s, meta: { resourceType: 'Schema', location: `${base}/Schemas/${s.id}` } };
}

export function resourceTypes(base: string) {
  return [
    {
      schemas: [URN.resourceType],
      id: 'User',
      name: 'User',
      endpoint: '/Users',
      description: 'User Account',
      schema: URN.user,
      schemaExtensions: [{ schema: URN.enterprise, required: false }],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/User` },
    },
    {
      schemas: [URN.resourceType],
      id: 'Group',
      name: 'Group',
      endpoint: '/Groups',
      description: 'Group',
      schema: URN.group,
      schemaExtensions: [],
      meta: { resourceType: 'ResourceType', location: `${base}/ResourceTypes/Group` },
    },
  ];
}

export function serviceProviderConfig(base: string, maxResults: number) {
  return {
    schemas: [URN.spc],
    documentationUri: 'https://github.com/gatehouse/gatehouse/blob/main/docs/identity.md#scim-provisioning',
    patch: { supported: true },
    bulk: { supported: false, maxOperations: 0, maxPayloadSize: 0 },
    filter: { supported: true, maxResults },
    changePassword: { supported: false },
    sort: { supported: false },
    etag: { supported: true },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'SCIM bearer token',
        description: 'A token minted with `gatehouse scim-tokens create NAME`, sent as `Authorization: Bearer <token>`.',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${base}/ServiceProviderConfig` },
  };
}
