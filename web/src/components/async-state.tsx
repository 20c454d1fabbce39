import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from '../api';
import { useI18n } from '../i18n';

export type Loadable<T> =
  | { state: 'loading' }
  | { state: 'error'; error: ApiError }
  | { state: 'ready'; value: T };

/**
 * Loads `load()` now and whenever `key` changes; `reload()` refreshes in place (keeping the value
 * shown); with `pollMs`, refreshes on that interval while the component is mounted.
 */
export function useLoad<T>(load: () => Promise<T>, key: string, pollMs?: number) {
  const [result, setResult] = useState<Loadable<T>>({ state: 'loading' });
  const loadRef = useRef(load);
  loadRef.current = load;
  const run = useCallback(async (isCurrent: () => boolean) => {
    try {
      const value = await loadRef.current();
      if (isCurrent()) setResult({ state: 'ready', value });
    } catch (error) {
      if (isCurrent()) setResult({ state: 'error', error: asApiError(error) });
    }
  }, []);
  useEffect(() => {
    let current = true;
    setResult({ state: 'loading' });
    void run(() => current);
    let timer: number | undefined;
    if (pollMs !== undefined) timer = window.setInterval(() => void run(() => current), pollMs);
    return () => {
      current = false;
      if (timer !== undefined) window.clearInterval(timer);
    };
  }, [key, pollMs, run]);
  const reload = useCallback(() => run(() => true), [run]);
  return { result, reload };
}

export function asApiError(error: unknown): ApiError {
  return error instanceof ApiError ? error : new ApiError(0, 'client_error', String(error), null);
}

export function LoadError({ error, onRetry }: { error: ApiError; onRetry?: () => void }) {
  const { t } = useI18n();
  return (
    <div className="alert alert-error" role="alert">
      <strong>{t('common.error')}:</strong>{' '}
      {error.code === 'network_error' ? t('common.network') : error.message}
      {onRetry === undefined ? null : (
        <button type="button" className="button button-small" onClick={onRetry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

export function Loading() {
  const { t } = useI18n();
  return (
    <p className="muted" role="status">
      {t('common.loading')}
    </p>
  );
}
