// The npm oidc-provider on loopback, for Admit's tests. It enforces PKCE (S256) for every client.
// Usage: node provider.mjs PORT  with OIDC_CLIENTS='[{"client_id":..,"client_secret":..,"redirect_uris":[..]}]'
// and optionally OIDC_ACCOUNTS='{"login": {"email": .., "email_verified": true, "given_name": .., "family_name": ..}}'.
// A login not listed gets email = the login (verified) and names from its local part.
// Prints "listening <issuer>" once ready; stops on SIGTERM.
import Provider from 'oidc-provider';

const port = Number(process.argv[2]);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]').map((c) => ({
  grant_types: ['authorization_code'],
  response_types: ['code'],
  token_endpoint_auth_method: 'client_secret_basic',
  ...c,
}));
const accounts = JSON.parse(process.env.OIDC_ACCOUNTS || '{}');

function claimsFor(login) {
  if (accounts[login]) return { sub: login, ...accounts[login] };
  const local = login.split('@')[0];
  const [first, last = 'Tester'] = local.split('.');
  const title = (s) => s.charAt(0).toUpperCase() + s.slice(1);
  return {
    sub: login,
    email: login,
    email_verified: true,
    given_name: title(first),
    family_name: title(last),
    name: `${title(first)} ${title(last)}`,
  };
}

const provider = new Provider(issuer, {
  clients,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: true } },
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'given_name', 'family_name'],
  },
  cookies: { keys: ['admit-test-only-cookie-key'] },
  async findAccount(ctx, sub) {
    return { accountId: sub, async claims() { return claimsFor(sub); } };
  },
});
provider.proxy = false;

const server = provider.listen(port, '127.0.0.1', () => {
  process.stdout.write(`listening ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
