// The page's Content-Security-Policy, one text for both windows: the Electron window (response
// header) and browser mode (HTTP header). Our own scripts, styles and socket; nothing inline.
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');
