import { useState, type FormEvent } from 'react';
import { api } from '../api';
import { asApiError, LoadError, Loading, useLoad } from '../components/async-state';
import { StatusBadge } from '../components/status-badge';
import { useI18n } from '../i18n';
import { Link, useRouter } from '../router';
import type { Page, Ticket } from '../types';

const STATUSES = ['notified', 'unassigned', 'accepted', 'declined', 'escalated'] as const;

export function TicketsPage() {
  const { t, formatDate } = useI18n();
  const { search, navigate } = useRouter();
  const status = search.get('status') ?? '';
  const location = search.get('location') ?? '';
  const [draft, setDraft] = useState({ status, location });
  const [more, setMore] = useState<{ items: Ticket[]; cursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<string | null>(null);

  const query = (cursor?: string) => {
    const params = new URLSearchParams({ limit: '50' });
    if (status !== '') params.set('status', status);
    if (location !== '') params.set('location', location);
    if (cursor !== undefined) params.set('cursor', cursor);
    return `/api/tickets?${params.toString()}`;
  };
  const { result, reload } = useLoad(
    () => api<Page<Ticket>>('GET', query()),
    `${status}|${location}`,
    10_000,
  );

  const apply = (event: FormEvent) => {
    event.preventDefault();
    const params = new URLSearchParams();
    if (draft.status !== '') params.set('status', draft.status);
    if (draft.location.trim() !== '') params.set('location', draft.location.trim());
    setMore(null);
    navigate(`/tickets${params.size > 0 ? `?${params.toString()}` : ''}`);
  };

  const loadMore = async (cursor: string) => {
    try {
      const page = await api<Page<Ticket>>('GET', query(cursor));
      setMore((previous) => ({
        items: [...(previous?.items ?? []), ...page.items],
        cursor: page.nextCursor,
      }));
    } catch (error) {
      setMoreError(asApiError(error).message);
    }
  };

  return (
    <section aria-labelledby="tickets-title">
      <div className="page-head">
        <h1 id="tickets-title">{t('ticket.listTitle')}</h1>
        <Link to="/tickets/new" className="button button-primary">
          {t('nav.newTicket')}
        </Link>
      </div>
      <form className="filters card" onSubmit={apply} role="search">
        <div className="field">
          <label htmlFor="filter-status">{t('ticket.status')}</label>
          <select
            id="filter-status"
            value={draft.status}
            onChange={(event) => setDraft({ ...draft, status: event.target.value })}
          >
            <option value="">{t('common.all')}</option>
            {STATUSES.map((s) => (
              <option key={s} value={s}>
                {t(`status.${s}`)}
              </option>
            ))}
          </select>
        </div>
        <div className="field">
          <label htmlFor="filter-location">{t('ticket.location')}</label>
          <input
            id="filter-location"
            value={draft.location}
            onChange={(event) => setDraft({ ...draft, location: event.target.value })}
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
        <>
          {result.value.items.length === 0 ? <p className="muted">{t('common.empty')}</p> : null}
          <ul className="list" data-testid="ticket-list">
            {[...result.value.items, ...(more?.items ?? [])].map((ticket) => (
              <li key={ticket.id} className="list-item">
                <div className="list-main">
                  <Link to={`/tickets/${ticket.id}`} className="list-title">
                    {ticket.number} · {ticket.specialty}
                  </Link>
                  <p className="list-sub">
                    {ticket.location}
                    {ticket.provider === null ? '' : ` · ${ticket.provider.name}`}
                  </p>
                  <p className="list-sub clamp">{ticket.description}</p>
                </div>
                <div className="list-side">
                  <StatusBadge status={ticket.status} />
                  <time dateTime={ticket.createdAt} className="muted small">
                    {formatDate(ticket.createdAt)}
                  </time>
                </div>
              </li>
            ))}
          </ul>
          {moreError === null ? null : <p className="alert alert-error">{moreError}</p>}
          {(more === null ? result.value.nextCursor : more.cursor) === null ? null : (
            <button
              type="button"
              className="button"
              onClick={() => void loadMore((more === null ? result.value.nextCursor : more.cursor) ?? '')}
            >
              {t('common.more')}
            </button>
          )}
        </>
      ) : null}
    </section>
  );
}
