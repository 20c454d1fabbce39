import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { asApiError } from '../components/async-state';
import { LanguageSwitch } from '../components/language-switch';
import { useI18n } from '../i18n';
import type { SessionInfo } from '../types';

export function LoginPage({ onLoggedIn }: { onLoggedIn: (session: SessionInfo) => void }) {
  const { t } = useI18n();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      onLoggedIn(await api<SessionInfo>('POST', '/api/auth/login', { email, password }));
    } catch (caught) {
      const apiError = asApiError(caught);
      setError(
        apiError.code === 'invalid_credentials'
          ? t('login.failed')
          : apiError.code === 'rate_limited'
            ? t('login.rateLimited')
            : apiError.code === 'network_error'
              ? t('common.network')
              : apiError.message,
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <main className="login" id="main">
      <div className="login-card card">
        <div className="login-head">
          <p className="brand">{t('app.name')}</p>
          <LanguageSwitch />
        </div>
        <h1>{t('login.title')}</h1>
        <form onSubmit={(event) => void submit(event)} noValidate={false}>
          <div className="field">
            <label htmlFor="login-email">{t('login.email')}</label>
            <input
              id="login-email"
              name="email"
              type="email"
              autoComplete="username"
              required
              value={email}
              onChange={(event) => setEmail(event.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor="login-password">{t('login.password')}</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autoComplete="current-password"
              required
              value={password}
              onChange={(event) => setPassword(event.target.value)}
            />
          </div>
          {error === null ? null : (
            <p className="alert alert-error" role="alert">
              {error}
            </p>
          )}
          <button type="submit" className="button button-primary button-block" disabled={busy}>
            {t('login.submit')}
          </button>
        </form>
      </div>
    </main>
  );
}
