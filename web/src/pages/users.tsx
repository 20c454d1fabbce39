import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { asApiError, LoadError, Loading, useLoad } from '../components/async-state';
import { useI18n } from '../i18n';
import type { Role, User } from '../types';

/** Admins only (the navigation hides it from operators; the API refuses them anyway). */
export function UsersPage() {
  const { t, errorText, formatDate } = useI18n();
  const { result, reload } = useLoad(
    () => api<{ items: (User & { createdAt: string })[] }>('GET', '/api/users'),
    'users',
  );
  const [draft, setDraft] = useState<{ email: string; password: string; role: Role }>({
    email: '',
    password: '',
    role: 'operator',
  });
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    setCreated(null);
    try {
      const user = await api<User>('POST', '/api/users', draft);
      setCreated(user.email);
      setDraft({ email: '', password: '', role: draft.role });
      await reload();
    } catch (caught) {
      setError(errorText(asApiError(caught)));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="users-title">
      <h1 id="users-title">{t('users.title')}</h1>
      <form className="card form" onSubmit={(event) => void submit(event)} aria-labelledby="users-add-title">
        <h2 id="users-add-title">{t('users.add')}</h2>
        {error === null ? null : (
          <p className="alert alert-error" role="alert">
            {error}
          </p>
        )}
        {created === null ? null : <p role="status">{t('users.created', { email: created })}</p>}
        <div className="form-grid">
          <div className="field">
            <label htmlFor="user-email">{t('users.email')}</label>
            <input
              id="user-email"
              type="email"
              autoComplete="off"
              required
              value={draft.email}
              onChange={(event) => setDraft({ ...draft, email: event.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor="user-password">{t('users.password')}</label>
            <input
              id="user-password"
              type="password"
              autoComplete="new-password"
              minLength={10}
              required
              value={draft.password}
              onChange={(event) => setDraft({ ...draft, password: event.target.value })}
            />
          </div>
          <div className="field">
            <label htmlFor="user-role">{t('users.role')}</label>
            <select
              id="user-role"
              value={draft.role}
              onChange={(event) =>
                setDraft({ ...draft, role: event.target.value === 'admin' ? 'admin' : 'operator' })
              }
            >
              <option value="operator">{t('users.role.operator')}</option>
              <option value="admin">{t('users.role.admin')}</option>
            </select>
          </div>
        </div>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {t('users.add')}
          </button>
        </div>
      </form>
      {result.state === 'loading' ? <Loading /> : null}
      {result.state === 'error' ? <LoadError error={result.error} onRetry={() => void reload()} /> : null}
      {result.state === 'ready' ? (
        <ul className="list" data-testid="user-list">
          {result.value.items.map((user) => (
            <li key={user.id} className="list-item">
              <div className="list-main">
                <p className="list-title">{user.email}</p>
                <p className="list-sub">{formatDate(user.createdAt)}</p>
              </div>
              <div className="list-side">
                <span className={`badge ${user.role === 'admin' ? 'badge-info' : 'badge-muted'}`}>
                  {t(`users.role.${user.role}`)}
                </span>
              </div>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}
