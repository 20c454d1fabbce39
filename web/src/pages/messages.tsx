import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { asApiError, LoadError, Loading, useLoad } from '../components/async-state';
import { StatusBadge } from '../components/status-badge';
import { useI18n } from '../i18n';
import { Link, useRouter } from '../router';
import type { Message, Page } from '../types';

const STATUSES = [
  'queued',
  'sending',
  'retrying',
  'sent',
  'delivered',
  'read',
  'failed',
  'received',
] as const;

export function MessagesPage() {
  const { t, tMaybe, formatDate } = useI18n();
  const { search, navigate } = useRouter();
  const filters = {
    status: search.get('status') ?? '',
    to: search.get('to') ?? '',
    ticketId: search.get('ticketId') ?? '',
  };
  const [draft, setDraft] = useState(filters);
  const [more, setMore] = useState<{ items: Message[]; cursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<string | null>(null);

  const query = (cursor?: string) => {
    const params = new URLSearchParams({ limit: '50' });
    for (const [name, value] of Object.entries(filters)) if (value !== '') params.set(name, value);
    if (cursor !== undefined) params.set('cursor', cursor);
    return `/api/messages?${params.toString()}`;
  };
  const key = `${filters.status}|${filters.to}|${filters.ticketId}`;
  const { result, reload } = useLoad(() => api<Page<Message>>('GET', query()), key, 5000);

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(draft))
      if (value.trim() !== '') params.set(name, value.trim());
    setMore(null);
    navigate(`/messages${params.size > 0 ? `?${params.toString()}` : ''}`);
  };

  const loadMore = async (cursor: string) => {
    try {
      const page = await api<Page<Message>>('GET', query(cursor));
      setMore((previous) => ({
        items: [...(previous?.items ?? []), ...page.items],
        cursor: page.nextCursor,
      }));
    } catch (error) {
      setMoreError(asApiError(error).message);
    }
  };
  const nextCursor =
    result.state === 'ready' ? (more === null ? result.value.nextCursor : more.cursor) : null;

  return (
    <section aria-labelledby="messages-title">
      <h1 id="messages-title">{t('messages.title')}</h1>
      <form className="filters card" onSubmit={apply} role="search">
        <div className="field">
          <label htmlFor="messages-status">{t('ticket.status')}</label>
          <select
            id="messages-status"
            value={draft.status}
            onChange={(event) => setDraft({ ...draft, status: event.target.value })}
          >
            <option value="">{t('common.all')}</option>
            {STATUSES.map((status) => (
              <option key={status} value={status}>
                {tMaybe(`status.${status}`, status)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="messages-to">{t('messages.to')}</label>
          <input
            id="messages-to"
            type="tel"
            value={draft.to}
            onChange={(event) => setDraft({ ...draft, to: event.target.value })}
          />
        </div>
        <div className="field">
          <label htmlFor="messages-ticket">{t('messages.ticket')}</label>
          <input
            id="messages-ticket"
            value={draft.ticketId}
            onChange={(event) => setDraft({ ...draft, ticketId: event.target.value })}
          />
        </div>
        <div className="filter-actions">
          <button type="submit" className="button">
            {t('common.filter')}
          </button>
        </div>
      </form>
      {result.state === 'loading' ? <Loading /> : null}
      {result.state === 'error' ? <LoadError error={result.error} onRetry={() => void reload()} /> : null}
      {result.state === 'ready' ? (
        <ul className="list" data-testid="message-list">
          {result.value.items.length === 0 ? <li className="muted">{t('common.empty')}</li> : null}
          {[...result.value.items, ...(more?.items ?? [])].map((message) => (
            <li key={message.id} className="list-item">
              <div className="list-main">
                <p className="list-title">
                  {message.direction === 'outbound' ? '→' : '←'} +{message.to}
                  <span className="muted small"> · {message.kind}</span>
                </p>
                {message.ticketId === null ? null : (
                  <p className="list-sub">
                    <Link to={`/tickets/${message.ticketId}`}>{t('messages.ticket')}</Link>
                  </p>
                )}
                {message.lastError === null ? null : (
                  <p className="field-error">
                    {message.lastError.code}
                    {message.lastError.whatsappCode === null
                      ? ''
                      : ` (${message.lastError.whatsappCode})`}: {message.lastError.message}
                  </p>
                )}
              </div>
              <div className="list-side">
                <StatusBadge status={message.status} />
                <time className="muted small" dateTime={message.createdAt}>
                  {formatDate(message.createdAt)}
                </time>
              </div>
            </li>
          ))}
        </ul>
      ) : null}
      {moreError === null ? null : <p className="alert alert-error">{moreError}</p>}
      {nextCursor === null ? null : (
        <button type="button" className="button" onClick={() => void loadMore(nextCursor)}>
          {t('common.more')}
        </button>
      )}
    </section>
  );
}
