// A local OpenID provider for the sign-in tests: oidc-provider (OpenID Certified), run as three
// issuers, one for each kind of Småjob user, as a real installation has them (MitID through
// NemLog-in for citizens, MitID Erhverv for companies, the municipality's own provider for
// coordinators). Not for production: keys are generated at start, nothing is stored.
//
//   node provider.js APP_BASE_URL ACCOUNTS_JSON
//
// APP_BASE_URL is the Småjob server the tests start (its redirect URLs are registered).
// ACCOUNTS_JSON is a file { "account id": { claim: value, … }, … }. A test picks the account
// by adding `login_hint=<account id>` to the authorization request; the provider signs it in
// and grants consent at once (there is no person at a keyboard). It prints one JSON line with
// the issuers' URLs and serves until stdin closes or it is killed.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import Provider from 'oidc-provider';

const [appBase, accountsFile] = process.argv.slice(2);
if (!appBase || !accountsFile) {
  console.error('usage: node provider.js APP_BASE_URL ACCOUNTS_JSON');
  process.exit(2);
}
const accounts = JSON.parse(readFileSync(accountsFile, 'utf8'));
const kinds = ['borger', 'virksomhed', 'koordinator'];
const CPR = 'https://data.gov.dk/model/core/eid/cprNumber';
const CVR = 'https://data.gov.dk/model/core/eid/professional/cvr';

function listen(server) {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
}

async function start(kind) {
  const server = http.createServer();
  const port = await listen(server);
  const issuer = `http://127.0.0.1:${port}`;
  const provider = new Provider(issuer, {
    clients: [{
      client_id: 'smaajob',
      client_secret: 'smaajob-test-secret',
      redirect_uris: [`${appBase}/log-ind/oidc/${kind}/retur`],
      post_logout_redirect_uris: [`${appBase}/log-ind?ok=ud`],
      grant_types: ['authorization_code'],
      response_types: ['code'],
    }],
    // Every code flow must carry a PKCE challenge, as the tests prove Småjob sends one.
    pkce: { required: () => true },
    claims: { openid: ['sub'], profile: ['name', CPR, CVR, 'municipality', 'groups'] },
    // The identity claims go in the ID token, as NemLog-in puts them there.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false }, rpInitiatedLogout: { enabled: true } },
    interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(ctx, id) {
      const claims = accounts[id];
      if (!claims) return undefined;
      return { accountId: id, async claims() { return { sub: id, ...claims }; } };
    },
  });
  const callback = provider.callback();
  server.on('request', async (req, res) => {
    if (!req.url.startsWith('/interaction/')) return callback(req, res);
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        const accountId = details.params.login_hint;
        if (!accounts[accountId]) {
          return provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'no such test account' });
        }
        return provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
      }
      const grant = details.grantId
        ? await provider.Grant.find(details.grantId)
        : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
      const missing = details.prompt.details;
      if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
      if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    } catch (err) {
      res.statusCode = 400;
      res.end(String(err));
    }
  });
  return [kind, issuer];
}

const issuers = Object.fromEntries(await Promise.all(kinds.map(start)));
process.stdout.write(`${JSON.stringify(issuers)}\n`);
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
