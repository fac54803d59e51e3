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
// Logout, with RP_BACKCHANNEL_PORT and RP_POST_LOGOUT_URI in the environment: the app listens for
// back-channel logout tokens on 127.0.0.1:RP_BACKCHANNEL_PORT (POST /backchannel-logout), prints
// {"logout": URL} (RP-initiated logout with the ID token as hint, openid-client's
// buildEndSessionUrl), reads the URL Admit sent the browser back to, and waits for the logout
// token, which it verifies with jose against the provider's JWKS (RS256, typ logout+jwt, iss,
// aud, iat/exp at most two minutes old, the back-channel logout event, no nonce, sub and sid of
// the ID token).
// The last line printed is {"id_token": claims, "userinfo": claims, "refresh": {...}, ...}.
import * as client from "openid-client";
import * as jose from "jose";
import { createServer } from "node:http";
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
const input = lines[Symbol.asyncIterator]();
const nextLine = async () => (await input.next()).value;
const backchannel = process.env.RP_BACKCHANNEL_PORT ? listenForLogout(Number(process.env.RP_BACKCHANNEL_PORT)) : null;
const callback = await nextLine();
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
const refreshedIdToken = refreshed.claims(); // openid-client checked it (iss, aud, sub unchanged, signature)
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
// Within 10 s of its exchange a refresh token presented again is the app racing itself (refused,
// the family kept); after that it is a replay, which revokes the family.
await new Promise((resolve) => setTimeout(resolve, 11_000));
const replay = await refusal(() => client.refreshTokenGrant(config, tokens.refresh_token));
const afterReplay = await refusal(() => client.refreshTokenGrant(config, refreshed.refresh_token));
const introspectedAfter = await client.tokenIntrospection(config, refreshed.access_token);
const logout = backchannel ? await rpInitiatedLogout(tokens.id_token, claims) : null;
lines.close();
console.log(
  JSON.stringify({
    id_token: claims,
    userinfo,
    token_type: tokens.token_type,
    scope: tokens.scope,
    refresh: {
      rotated: Boolean(refreshed.refresh_token) && refreshed.refresh_token !== tokens.refresh_token,
      userinfo: refreshedUserinfo,
      id_token: refreshedIdToken ?? null,
      introspection: introspected,
      replay,
      after_replay: afterReplay,
      introspection_after_replay: introspectedAfter,
    },
    keyed,
    logout,
  }),
);

// The app's back-channel logout endpoint: the first logout token posted, verified; answers 200
// when it passes, 400 otherwise (as Back-Channel Logout 1.0 §2.8 says).
function listenForLogout(port) {
  let settle;
  const received = new Promise((resolve) => (settle = resolve));
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", async () => {
      const form = new URLSearchParams(body);
      const outcome = { path: request.url, content_type: request.headers["content-type"] };
      try {
        Object.assign(outcome, await verifyLogoutToken(form.get("logout_token")));
        response.writeHead(200, { "cache-control": "no-store" }).end();
      } catch (error) {
        outcome.error = String(error);
        response.writeHead(400, { "cache-control": "no-store" }).end();
      }
      server.close();
      settle(outcome);
    });
  });
  server.listen(port, "127.0.0.1");
  return received;
}

async function verifyLogoutToken(token) {
  const metadata = config.serverMetadata();
  const keys = jose.createRemoteJWKSet(new URL(metadata.jwks_uri));
  const { payload, protectedHeader } = await jose.jwtVerify(token, keys, {
    issuer: metadata.issuer,
    audience: clientId,
    typ: "logout+jwt",
    algorithms: ["RS256"],
    maxTokenAge: "2 minutes",
    requiredClaims: ["iat", "exp", "jti", "events"],
  });
  const event = payload.events?.["http://schemas.openid.net/event/backchannel-logout"];
  if (typeof event !== "object" || event === null) throw new Error("no back-channel logout event");
  if ("nonce" in payload) throw new Error("a logout token must not carry a nonce");
  return { header: protectedHeader, claims: payload, lifetime: payload.exp - payload.iat };
}

// RP-initiated logout: send the browser to Admit's end_session_endpoint, read where it came back
// to, then wait (at most 30 seconds) for the back-channel logout token.
async function rpInitiatedLogout(idToken, idClaims) {
  const logoutState = client.randomState();
  const postLogout = process.env.RP_POST_LOGOUT_URI;
  const url = client.buildEndSessionUrl(config, {
    id_token_hint: idToken,
    post_logout_redirect_uri: postLogout,
    state: logoutState,
  });
  console.log(JSON.stringify({ logout: url.href }));
  const cameBack = new URL(await nextLine());
  const timeout = new Promise((resolve) => setTimeout(() => resolve({ error: "no logout token" }), 30000).unref());
  const token = await Promise.race([backchannel, timeout]);
  return {
    end_session_endpoint: config.serverMetadata().end_session_endpoint,
    back_to: `${cameBack.origin}${cameBack.pathname}` === postLogout,
    state_ok: cameBack.searchParams.get("state") === logoutState,
    same_sid: token.claims?.sid === idClaims.sid && Boolean(idClaims.sid),
    same_sub: token.claims?.sub === idClaims.sub,
    backchannel: token,
  };
}
