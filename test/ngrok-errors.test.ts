// How `npm run tunnel` words the failures of the @ngrok/ngrok SDK (the ngrok service itself cannot be reached here).
import { describeNgrokError } from '../src/tunnel/ngrok-errors';

/** An error as the SDK throws it: ngrok's code at the end of the message, copied to errorCode on some paths only. */
function sdkError(message: string, code?: string): Error {
  return new Error(code ? `${message}\n\nerror_code: ${code}` : message);
}

describe('describeNgrokError', () => {
  it('names the static domain and says to reserve it when ngrok refuses it for this account', () => {
    const text = describeNgrokError(sdkError('failed to start tunnel: the domain is reserved for another account', 'ERR_NGROK_320'), 'mine.ngrok.app');
    expect(text).toBe(
      'ngrok refused the domain mine.ngrok.app (ERR_NGROK_320): reserve it in the ngrok dashboard (Domains) for this account, or remove url from ngrok.yml',
    );
  });

  it('reads the code the SDK copied onto errorCode', () => {
    const error = Object.assign(new Error('failed to start tunnel'), { errorCode: 'ERR_NGROK_15002' });
    expect(describeNgrokError(error, 'mine.ngrok.app')).toContain('ngrok refused the domain mine.ngrok.app (ERR_NGROK_15002)');
  });

  it('says the authtoken was rejected and where to copy it from, without repeating the token', () => {
    const text = describeNgrokError(sdkError('failed to connect session: authentication failed', 'ERR_NGROK_105'));
    expect(text).toBe('ngrok rejected NGROK_AUTHTOKEN (ERR_NGROK_105): copy it again from https://dashboard.ngrok.com/get-started/your-authtoken');
  });

  it('reports an unreachable service as a network problem even when a static domain is configured', () => {
    // The message the SDK gives on these machines, where ngrok's service is out of reach.
    const text = describeNgrokError(new Error('failed to connect session: failed to establish tcp connection'), 'mine.ngrok.app');
    expect(text).toBe(
      'could not reach the ngrok service (failed to connect session: failed to establish tcp connection): check the network connection, proxy or firewall of this machine',
    );
  });

  it('passes any other failure on as one line under a plain heading', () => {
    expect(describeNgrokError('something else')).toBe('ngrok could not open the tunnel: something else');
  });
});
