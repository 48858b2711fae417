// Turns an @ngrok/ngrok failure into one line that says what to do, without a stack trace.

/** The SDK puts ngrok's error code on `errorCode` (parsed from "error_code: ERR_NGROK_nnn" at the end of the message). */
function ngrokErrorCode(error: unknown, message: string): string | undefined {
  const code = (error as { errorCode?: unknown } | null | undefined)?.errorCode;
  return typeof code === 'string' ? code : message.match(/ERR_NGROK_\d+/)?.[0];
}

export function describeNgrokError(error: unknown, domain?: string): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = ngrokErrorCode(error, message);
  if (code === 'ERR_NGROK_105' || code === 'ERR_NGROK_107' || /authtoken|authentication failed/i.test(message)) {
    return `ngrok rejected NGROK_AUTHTOKEN (${code ?? message}): copy it again from https://dashboard.ngrok.com/get-started/your-authtoken`;
  }
  if (domain && (code === 'ERR_NGROK_320' || code === 'ERR_NGROK_313' || code === 'ERR_NGROK_15002' || /domain|hostname/i.test(message))) {
    return `ngrok refused the domain ${domain} (${code ?? message}): reserve it in the ngrok dashboard (Domains) for this account, or remove url from ngrok.yml`;
  }
  if (/failed to connect|tcp connection|dns|timed out|network/i.test(message)) {
    return `could not reach the ngrok service (${message}): check the network connection, proxy or firewall of this machine`;
  }
  return `ngrok could not open the tunnel: ${message}`;
}
