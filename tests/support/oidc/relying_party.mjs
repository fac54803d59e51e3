// An independent relying party: openid-client (panva) signs a person in through Admit with the
// authorization code flow and PKCE. Admit's tests run it against a real `admit serve`:
//   node relying_party.mjs ISSUER CLIENT_ID CLIENT_SECRET REDIRECT_URI
// It discovers the provider, prints {"authorize": URL} as one JSON line, reads the callback URL
// (where Admit redirected the browser) from stdin, exchanges the code (ID token validated:
// signature from the JWKS, iss, aud, nonce, exp; the iss response parameter; PKCE), fetches
// userinfo and prints {"id_token": claims, "userinfo": claims, ...} as the last JSON line.
import * as client from "openid-client";
import { createInterface } from "node:readline";

const [issuer, clientId, clientSecret, redirectUri] = process.argv.slice(2);
const config = await client.discovery(
  new URL(issuer),
  clientId,
  { client_secret: clientSecret },
  client.ClientSecretBasic(clientSecret),
  { execute: [client.allowInsecureRequests] }, // Admit on http://127.0.0.1 in the tests
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
console.log(JSON.stringify({ id_token: claims, userinfo, token_type: tokens.token_type, scope: tokens.scope }));
