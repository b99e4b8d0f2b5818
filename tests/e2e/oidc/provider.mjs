// A real OpenID Provider (panva/node-oidc-provider) with its development login pages, for
// the supervisors' web app's sign-in test. Usage: node provider.mjs PORT REDIRECT_URI SECRET
import Provider from 'oidc-provider';

const [port, redirectUri, secret] = process.argv.slice(2);
const provider = new Provider(`http://127.0.0.1:${port}`, {
  clients: [{
    client_id: 'crossforce-web',
    client_secret: secret,
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  claims: { openid: ['sub'], profile: ['preferred_username'] },
  // The login name typed on the development login page is the subject and the username.
  findAccount: async (ctx, id) => ({
    accountId: id,
    claims: async () => ({ sub: id, preferred_username: id }),
  }),
  features: { devInteractions: { enabled: true } },
});
provider.listen(Number(port), '127.0.0.1', () => console.log(`listening ${port}`));
