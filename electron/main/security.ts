// Electron's security checklist, as functions of the objects Electron hands us (unit-tested in Node).
import type { IpcMainInvokeEvent, Session, WebContents, WebPreferences } from 'electron';
import { CONTENT_SECURITY_POLICY } from '../../shared/csp.js';

/** The window's page may load only our own files; it runs sandboxed with no Node. */
export function secureWebPreferences(preloadPath: string): WebPreferences {
  return {
    preload: preloadPath,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
    webviewTag: false,
    spellcheck: false,
  };
}

export const WINDOW_CONTENT_SECURITY_POLICY = CONTENT_SECURITY_POLICY;

/** True for URLs inside the renderer folder the app was built with, and nothing else. */
export function isAppUrl(url: string, appBaseUrl: string): boolean {
  const base = appBaseUrl.endsWith('/') ? appBaseUrl : appBaseUrl + '/';
  try {
    const parsed = new URL(url);
    return parsed.protocol === 'file:' && (parsed.href.startsWith(base) || parsed.href === base.slice(0, -1));
  } catch {
    return false;
  }
}

/** Denies new windows, navigation away from the app and <webview>; links open nowhere. */
export function hardenWebContents(contents: WebContents, appBaseUrl: string): void {
  contents.setWindowOpenHandler(() => ({ action: 'deny' }));
  contents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url, appBaseUrl)) event.preventDefault();
  });
  contents.on('will-redirect', (event, url) => {
    if (!isAppUrl(url, appBaseUrl)) event.preventDefault();
  });
  contents.on('will-attach-webview', (event) => event.preventDefault());
}

/** Every IPC call must come from our own page's main frame, never from an iframe or other origin. */
export function isTrustedSender(event: Pick<IpcMainInvokeEvent, 'senderFrame'>, appBaseUrl: string): boolean {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null) return false;
  return isAppUrl(frame.url, appBaseUrl);
}

/** Sends the CSP as a response header too, so it holds even if the page's meta tag is lost. */
export function applyContentSecurityPolicy(session: Pick<Session, 'webRequest'>): void {
  session.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [WINDOW_CONTENT_SECURITY_POLICY] },
    });
  });
}

/** No camera, microphone, notifications from the page, geolocation…: the UI needs none. */
export function denyAllPermissions(session: Pick<Session, 'setPermissionRequestHandler' | 'setPermissionCheckHandler'>): void {
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);
}
