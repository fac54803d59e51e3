// An independent relying party: openid-client (panva) signs a person in through Admit with the
// authorization code flow and PKCE. Admit's tests run it against a real `admit serve`:
//   node relying_party.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI [KEYED_CLIENT_ID PRIVATE_JWK]
// It discovers the provider, prints {"authorize": URL} as one JSON line, reads the callback URL
// (where Admit redirected the browser) from stdin, exchanges the code (ID token validated:
// signature from the JWKS, iss, aud, nonce, exp; the iss response parameter; PKCE), fetches
// userinfo, refreshes once (the refresh token must rotate), introspects the new access token,
// then replays the first refresh token (reuse detection must revoke the family). With a second
// app that authenticates with private_key_jwt (its private JWK given), that app introspects the
// same access token and revokes a token it does not hold, with assertions openid-client signs.
// The last line printed is {"id_token": claims, "userinfo": claims, "refresh": {...}, ...}.
import * as client from "openid-client";
import { createInterface } from "node:readline";

const [issuer, clientId, clientSecret, redirectUri, keyedClientId, keyedJwk] = process.argv.slice(2);
const insecure = { execute: [client.allowInsecureRequests] }; // Admit on http://127.0.0.1 in the tests
const config = await client.discovery(
  new URL(issuer),
  clientId,
  { client_secret: clientSecret },
  client.ClientSecretBasic(clientSecret),
  insecure,
);
const verifier = client.randomPKCECodeVerifier();
const state = client.randomState();
const nonce = client.randomNonce();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: "openid profile email workspace",
  code_challenge: await client.calculatePKCECodeChallenge(verifier),
  code_challenge_method: "S256",
  state,
  nonce,
});
console.log(JSON.stringify({ authorize: url.href }));

const lines = createInterface({ input: process.stdin });
const callback = await new Promise((resolve) => lines.once("line", resolve));
lines.close();
const tokens = await client.authorizationCodeGrant(config, new URL(callback), {
  pkceCodeVerifier: verifier,
  expectedState: state,
  expectedNonce: nonce,
  idTokenExpected: true,
});
const claims = tokens.claims();
const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);

async function refusal(attempt) {
  try {
    await attempt();
    return "accepted";
  } catch (error) {
    return error.error ?? String(error);
  }
}

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
const refreshedUserinfo = await client.fetchUserInfo(config, refreshed.access_token, claims.sub);
const introspected = await client.tokenIntrospection(config, refreshed.access_token);
let keyed = null;
if (keyedClientId) {
  const jwk = JSON.parse(keyedJwk);
  const key = await crypto.subtle.importKey("jwk", jwk, { name: "RSASSA-PKCS1-v1_5", hash: "SHA-256" }, false, ["sign"]);
  const keyedConfig = await client.discovery(
    new URL(issuer),
    keyedClientId,
    {},
    client.PrivateKeyJwt({ key, kid: jwk.kid }),
    insecure,
  );
  const other = await client.tokenIntrospection(keyedConfig, refreshed.access_token);
  await client.tokenRevocation(keyedConfig, refreshed.refresh_token); // not its token: 200, nothing revoked
  keyed = { introspection: other };
}
const replay = await refusal(() => client.refreshTokenGrant(config, tokens.refresh_token));
const afterReplay = await refusal(() => client.refreshTokenGrant(config, refreshed.refresh_token));
const introspectedAfter = await client.tokenIntrospection(config, refreshed.access_token);
console.log(
  JSON.stringify({
    id_token: claims,
    userinfo,
    token_type: tokens.token_type,
    scope: tokens.scope,
    refresh: {
      rotated: Boolean(refreshed.refresh_token) && refreshed.refresh_token !== tokens.refresh_token,
      userinfo: refreshedUserinfo,
      introspection: introspected,
      replay,
      after_replay: afterReplay,
      introspection_after_replay: introspectedAfter,
    },
    keyed,
  }),
);
