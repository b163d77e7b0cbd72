import { describe } from 'node:test';
import { clientRoundTripSuite } from './client-roundtrip.ts';

describe('MLflow 3.18 with --enable-workspaces, through Gatehouse', () => clientRoundTripSuite(true));
