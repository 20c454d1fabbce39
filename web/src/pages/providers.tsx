import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { asApiError, LoadError, Loading, useLoad } from '../components/async-state';
import { useI18n } from '../i18n';
import { useSession } from '../session';
import type { ImportReport, Page, Provider } from '../types';

interface Draft {
  name: string;
  phone: string;
  location: string;
  specialties: string;
}

const EMPTY: Draft = { name: '', phone: '', location: '', specialties: '' };

export function ProvidersPage() {
  const { t } = useI18n();
  const { session } = useSession();
  const isAdmin = session.user.role === 'admin';
  const { result, reload } = useLoad(
    () => api<Page<Provider>>('GET', '/api/providers?limit=200'),
    'providers',
  );
  const [editing, setEditing] = useState<{ id: string | null; draft: Draft } | null>(null);

  return (
    <section aria-labelledby="providers-title">
      <div className="page-head">
        <h1 id="providers-title">{t('provider.title')}</h1>
        {isAdmin && editing === null ? (
          <button
            type="button"
            className="button button-primary"
            onClick={() => setEditing({ id: null, draft: EMPTY })}
          >
            {t('provider.add')}
          </button>
        ) : null}
      </div>
      {isAdmin ? null : <p className="muted">{t('provider.adminOnly')}</p>}
      {editing === null ? null : (
        <ProviderForm
          key={editing.id ?? 'new'}
          id={editing.id}
          initial={editing.draft}
          onDone={() => {
            setEditing(null);
            void reload();
          }}
          onCancel={() => setEditing(null)}
        />
      )}
      {isAdmin ? <ImportForm onImported={() => void reload()} /> : null}
      {result.state === 'loading' ? <Loading /> : null}
      {result.state === 'error' ? <LoadError error={result.error} onRetry={() => void reload()} /> : null}
      {result.state === 'ready' ? (
        <ul className="list" data-testid="provider-list">
          {result.value.items.length === 0 ? <li className="muted">{t('common.empty')}</li> : null}
          {result.value.items.map((provider) => (
            <li key={provider.id} className={`list-item${provider.active ? '' : ' is-inactive'}`}>
              <div className="list-main">
                <p className="list-title">{provider.name}</p>
                <p className="list-sub">
                  +{provider.phone} · {provider.location}
                </p>
                <p className="list-sub">{provider.specialties.join(', ')}</p>
              </div>
              <div className="list-side">
                <span className={`badge ${provider.active ? 'badge-ok' : 'badge-muted'}`}>
                  {provider.active ? t('provider.active') : t('provider.inactive')}
                </span>
                {isAdmin ? (
                  <div className="row-actions">
                    <button
                      type="button"
                      className="button button-small"
                      aria-label={`${t('common.edit')} ${provider.name}`}
                      onClick={() =>
                        setEditing({
                          id: provider.id,
                          draft: {
                            name: provider.name,
                            phone: provider.phone,
                            location: provider.location,
                            specialties: provider.specialties.join(', '),
                          },
                        })
                      }
                    >
                      {t('common.edit')}
                    </button>
                    <ToggleActive provider={provider} onDone={() => void reload()} />
                  </div>
                ) : null}
              </div>
            </li>
          ))}
        </ul>
      ) : null}
    </section>
  );
}

function ToggleActive({ provider, onDone }: { provider: Provider; onDone: () => void }) {
  const { t, errorText } = useI18n();
  const [error, setError] = useState<string | null>(null);
  const toggle = async () => {
    try {
      await api('PATCH', `/api/providers/${provider.id}`, { active: !provider.active });
      onDone();
    } catch (caught) {
      setError(errorText(asApiError(caught)));
    }
  };
  return (
    <>
      <button
        type="button"
        className="button button-small"
        aria-label={`${provider.active ? t('provider.deactivate') : t('provider.activate')} ${provider.name}`}
        onClick={() => void toggle()}
      >
        {provider.active ? t('provider.deactivate') : t('provider.activate')}
      </button>
      {error === null ? null : <span className="field-error">{error}</span>}
    </>
  );
}

function ProviderForm(props: {
  id: string | null;
  initial: Draft;
  onDone: () => void;
  onCancel: () => void;
}) {
  const { t, errorText } = useI18n();
  const [draft, setDraft] = useState(props.initial);
  const [error, setError] = useState<{ field: string | null; message: string } | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const body = {
      name: draft.name,
      phone: draft.phone,
      location: draft.location,
      specialties: draft.specialties
        .split(',')
        .map((s) => s.trim())
        .filter((s) => s !== ''),
    };
    try {
      if (props.id === null) await api('POST', '/api/providers', body);
      else {
        // Only what changed: the stored phone is already normalized, a re-sent one would be re-checked.
        const initial = props.initial;
        const changed = Object.fromEntries(
          Object.entries(body).filter(([key, value]) =>
            key === 'specialties'
              ? (value as string[]).join(', ') !== initial.specialties
              : value !== initial[key as keyof Draft],
          ),
        );
        await api('PATCH', `/api/providers/${props.id}`, changed);
      }
      props.onDone();
    } catch (caught) {
      const apiError = asApiError(caught);
      setError({ field: apiError.field, message: errorText(apiError) });
    } finally {
      setBusy(false);
    }
  };

  const fields = [
    { name: 'name', label: t('provider.name'), type: 'text' },
    { name: 'phone', label: t('provider.phone'), type: 'tel' },
    { name: 'location', label: t('provider.location'), type: 'text' },
    {
      name: 'specialties',
      label: t('provider.specialties'),
      type: 'text',
      hint: t('provider.specialtiesHint'),
    },
  ] as const;

  return (
    <form
      className="card form"
      onSubmit={(event) => void submit(event)}
      aria-labelledby="provider-form-title"
    >
      <h2 id="provider-form-title">{props.id === null ? t('provider.add') : t('provider.edit')}</h2>
      {error === null ? null : (
        <p className="alert alert-error" role="alert">
          {error.message}
        </p>
      )}
      <div className="form-grid">
        {fields.map((field) => {
          const isInvalid = error?.field != null && error.field.split(/[.[]/)[0] === field.name;
          return (
            <div className="field" key={field.name}>
              <label htmlFor={`provider-${field.name}`}>{field.label}</label>
              <input
                id={`provider-${field.name}`}
                type={field.type}
                required
                value={draft[field.name]}
                aria-invalid={isInvalid ? true : undefined}
                onChange={(event) => setDraft({ ...draft, [field.name]: event.target.value })}
              />
              {'hint' in field ? <p className="hint">{field.hint}</p> : null}
            </div>
          );
        })}
      </div>
      <div className="form-actions">
        <button type="submit" className="button button-primary" disabled={busy}>
          {t('common.save')}
        </button>
        <button type="button" className="button" onClick={props.onCancel}>
          {t('common.cancel')}
        </button>
      </div>
    </form>
  );
}

function ImportForm({ onImported }: { onImported: () => void }) {
  const { t } = useI18n();
  const [file, setFile] = useState<File | null>(null);
  const [report, setReport] = useState<ImportReport | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (file === null) return;
    setBusy(true);
    setError(null);
    setReport(null);
    try {
      setReport(await api<ImportReport>('POST', '/api/providers/import', await file.text()));
      onImported();
    } catch (caught) {
      setError(asApiError(caught).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <details className="card">
      <summary>{t('provider.import')}</summary>
      <form className="form" onSubmit={(event) => void submit(event)}>
        <div className="field">
          <label htmlFor="import-file">{t('provider.importFile')}</label>
          <input
            id="import-file"
            type="file"
            accept=".csv,text/csv,text/plain"
            aria-describedby="import-hint"
            onChange={(event) => setFile(event.target.files?.[0] ?? null)}
          />
          <p className="hint" id="import-hint">
            {t('provider.importHint')}
          </p>
        </div>
        <button type="submit" className="button" disabled={busy || file === null}>
          {t('provider.importRun')}
        </button>
      </form>
      {error === null ? null : (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      {report === null ? null : (
        <div role="status" data-testid="import-report">
          <p>
            {t('provider.importReport', {
              total: report.total,
              created: report.created,
              updated: report.updated,
              refused: report.refused.length,
            })}
          </p>
          {report.refused.length === 0 ? null : (
            <ul className="refused">
              {report.refused.map((row) => (
                <li key={`${row.row}-${row.field ?? ''}`}>
                  <strong>{t('provider.importRow', { row: row.row })}</strong>: {row.reason}
                </li>
              ))}
            </ul>
          )}
        </div>
      )}
    </details>
  );
}
