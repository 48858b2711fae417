// Reads the API's endpoint from ngrok.yml (ngrok agent config v3), the same file the ngrok agent uses.
import fs from 'node:fs';
import { parse } from 'yaml';
import { z } from 'zod';

const EndpointSchema = z.object({
  name: z.string().min(1),
  url: z.string().regex(/^(https?:\/\/)?[a-z0-9.-]+$/i, 'must be a domain such as https://your-name.ngrok-free.app').optional(),
  upstream: z.object({ url: z.union([z.number().int().min(1).max(65535), z.string().min(1)]) }),
});

const NgrokConfigSchema = z.object({
  version: z.union([z.literal(3), z.literal('3')], { message: 'must be 3 (the ngrok agent config v3 format)' }),
  agent: z
    .looseObject({ connect_url: z.string().regex(/^[a-z0-9.-]+:\d{1,5}$/i, 'must be host:port, e.g. connect.ngrok-agent.com:443').optional() })
    .refine((agent) => !('authtoken' in agent), { message: 'must not be in the file: set NGROK_AUTHTOKEN instead', path: ['authtoken'] })
    .optional(),
  endpoints: z.array(EndpointSchema).min(1, 'must list at least one endpoint'),
});

export interface TunnelEndpoint {
  name: string;
  /** The local port the endpoint forwards to. */
  port: number;
  /** The static domain, when the file names one. */
  domain?: string;
  /** `agent.connect_url`: where the agent dials ngrok's service (a dedicated ingress); ngrok's default when absent. */
  connectUrl?: string;
}

export class NgrokConfigError extends Error {
  override name = 'NgrokConfigError';
}

export function loadNgrokConfig(file: string, endpointName = 'api'): TunnelEndpoint {
  let raw: unknown;
  try {
    raw = parse(fs.readFileSync(file, 'utf8'));
  } catch (error) {
    throw new NgrokConfigError(`cannot read ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const result = NgrokConfigSchema.safeParse(raw);
  if (!result.success) {
    throw new NgrokConfigError(`${file}: ${result.error.issues.map((issue) => `${issue.path.join('.')} ${issue.message}`).join('; ')}`);
  }
  const endpoint = result.data.endpoints.find((candidate) => candidate.name === endpointName);
  if (!endpoint) throw new NgrokConfigError(`${file} has no endpoint named "${endpointName}" (it has: ${result.data.endpoints.map((e) => e.name).join(', ')})`);
  const upstream = String(endpoint.upstream.url);
  const port = Number(/^\d+$/.test(upstream) ? upstream : new URL(upstream.includes('://') ? upstream : `http://${upstream}`).port);
  if (!Number.isInteger(port) || port < 1) throw new NgrokConfigError(`${file}: endpoint "${endpointName}" upstream.url must name a local port, e.g. 4000`);
  return { name: endpoint.name, port, domain: endpoint.url?.replace(/^https?:\/\//, ''), connectUrl: result.data.agent?.connect_url };
}
