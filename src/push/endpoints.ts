/*
 * Where the server may post (SSRF): a subscription's endpoint must be https: on a host of
 * PUSH_ENDPOINT_HOSTS ("*.example.com" admits its subdomains, not itself), or http: on such a
 * host when PUSH_ALLOW_HTTP is set (local push services in tests). Checked when a subscription is
 * registered and again before each delivery (the list may have changed since). Pure.
 */

export interface EndpointRules {
  hosts: readonly string[];
  allowHttp: boolean;
}

export const parseHosts = (list: string): string[] =>
  list.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h.length > 0);

const hostAllowed = (host: string, hosts: readonly string[]): boolean =>
  hosts.some((h) => (h.startsWith('*.') ? host.endsWith(h.slice(1)) && host.length > h.length - 1 : host === h));

/** null when the server may post to `endpoint`, else why not (a VALIDATION message). */
export function endpointRefusal(endpoint: string, rules: EndpointRules): string | null {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    return 'endpoint must be a URL';
  }
  const https = url.protocol === 'https:';
  if (!https && !(rules.allowHttp && url.protocol === 'http:')) return 'endpoint must be an https: URL';
  if (url.username || url.password) return 'endpoint must not carry credentials';
  // URL lower-cases the host; the port is part of what the list names when it names one.
  const host = url.hostname;
  if (!hostAllowed(host, rules.hosts) && !hostAllowed(url.host, rules.hosts)) return 'endpoint is not on a known push service';
  return null;
}
