// jose 6 uses the global WebCrypto object, which Node.js has by default only from 19 on;
// Debian 12's nodejs is 18, where it is node:crypto's webcrypto. Imported before jose by
// every script here and by the labnet BAR.
import { webcrypto } from 'node:crypto';

if (!globalThis.crypto) globalThis.crypto = webcrypto;
