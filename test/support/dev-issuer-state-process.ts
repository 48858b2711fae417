// Loads (or creates) the dev issuer's state when told to over IPC, so that several processes race on one directory.
import { loadOrCreateDevIssuerState } from '../../src/auth/dev-issuer';

process.once('message', (dir: string) => {
  loadOrCreateDevIssuerState(dir).then(
    (state) => process.send?.({ kid: state.kid, clientId: state.client.id }, () => process.exit(0)),
    (error: unknown) => process.send?.({ error: String(error) }, () => process.exit(1)),
  );
});
process.send?.('ready');
