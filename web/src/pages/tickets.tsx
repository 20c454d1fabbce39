import { FilterField, FilterForm, ListBody, useFilteredPages } from '../components/filtered-list';
import { StatusBadge } from '../components/status-badge';
import { useI18n } from '../i18n';
import { Link } from '../router';
import type { Ticket } from '../types';

const STATUSES = ['notified', 'unassigned', 'accepted', 'declined', 'escalated'] as const;

export function TicketsPage() {
  const { t, formatDate } = useI18n();
  const list = useFilteredPages<Ticket, 'status' | 'location'>({
    pagePath: '/tickets',
    apiPath: '/api/tickets',
    filters: ['status', 'location'],
    refreshMs: 10_000,
  });

  return (
    <section aria-labelledby="tickets-title">
      <div className="page-head">
        <h1 id="tickets-title">{t('ticket.listTitle')}</h1>
        <Link to="/tickets/new" className="button button-primary">
          {t('nav.newTicket')}
        </Link>
      </div>
      <FilterForm onSubmit={list.apply}>
        <FilterField
          id="filter-status"
          label={t('ticket.status')}
          value={list.draft.status}
          onChange={(value) => list.setFilter('status', value)}
          choices={STATUSES.map((status) => ({ value: status, label: t(`status.${status}`) }))}
        />
        <FilterField
          id="filter-location"
          label={t('ticket.location')}
          value={list.draft.location}
          onChange={(value) => list.setFilter('location', value)}
        />
      </FilterForm>
      <ListBody {...list}>
        {list.items.length === 0 ? <p className="muted">{t('common.empty')}</p> : null}
        <ul className="list" data-testid="ticket-list">
          {list.items.map((ticket) => (
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
      </ListBody>
    </section>
  );
}
