import { api } from '../api';
import { LoadError, Loading, useLoad } from '../components/async-state';
import { StatusBadge } from '../components/status-badge';
import { useI18n } from '../i18n';
import { Link } from '../router';
import type { Ticket, TicketEvent } from '../types';

/** How often the open page asks for news (notification statuses, replies). */
const POLL_MS = 2000;

export function TicketDetailPage({ id }: { id: string }) {
  const { t, tMaybe, formatDate } = useI18n();
  const { result, reload } = useLoad(
    () => api<Ticket>('GET', `/api/tickets/${encodeURIComponent(id)}`),
    id,
    POLL_MS,
  );

  if (result.state === 'loading') return <Loading />;
  if (result.state === 'error') {
    return (
      <>
        {result.error.status === 404 ? (
          <p className="alert alert-error">{t('ticket.notFound')}</p>
        ) : (
          <LoadError error={result.error} onRetry={() => void reload()} />
        )}
        <Link to="/tickets">{t('ticket.back')}</Link>
      </>
    );
  }
  const ticket = result.value;
  const timeline: TicketEvent[] = ticket.history ?? [];

  return (
    <article aria-labelledby="ticket-title" data-testid="ticket-detail">
      <p>
        <Link to="/tickets">← {t('ticket.back')}</Link>
      </p>
      <div className="page-head">
        <h1 id="ticket-title">
          {ticket.number}
          {ticket.title === null ? '' : ` · ${ticket.title}`}
        </h1>
        <span data-testid="ticket-status">
          <StatusBadge status={ticket.status} />
        </span>
      </div>

      <div className="detail-grid">
        <section className="card" aria-labelledby="facts-title">
          <h2 id="facts-title" className="visually-hidden">
            {t('ticket.description')}
          </h2>
          <p className="description">{ticket.description}</p>
          <dl className="facts">
            <dt>{t('ticket.location')}</dt>
            <dd>{ticket.location}</dd>
            <dt>{t('ticket.specialty')}</dt>
            <dd>{ticket.specialty}</dd>
            {ticket.address === null ? null : (
              <>
                <dt>{t('ticket.address')}</dt>
                <dd>{ticket.address}</dd>
              </>
            )}
            {ticket.reporter.name === null && ticket.reporter.phone === null ? null : (
              <>
                <dt>{t('ticket.reporter')}</dt>
                <dd>{[ticket.reporter.name, ticket.reporter.phone].filter((v) => v !== null).join(' · ')}</dd>
              </>
            )}
            <dt>{t('ticket.created')}</dt>
            <dd>
              <time dateTime={ticket.createdAt}>{formatDate(ticket.createdAt)}</time>
            </dd>
          </dl>
        </section>

        <section className="card" aria-labelledby="provider-title" data-testid="ticket-provider">
          <h2 id="provider-title">{t('ticket.provider')}</h2>
          {ticket.provider === null ? (
            <p className="muted">{t('ticket.noProvider')}</p>
          ) : (
            <>
              <p className="strong">{ticket.provider.name}</p>
              <p>
                <a href={`tel:+${ticket.provider.phone}`}>+{ticket.provider.phone}</a>
              </p>
              <p className="muted small">{ticket.provider.specialties.join(', ')}</p>
            </>
          )}
          <p className="muted small">{tMaybe(`ticket.match.${ticket.matchSource}`, ticket.matchSource)}</p>
          {ticket.assignment == null ? null : (
            <div className="offer" data-testid="ticket-offer">
              <h3>{t('offer.title')}</h3>
              <p>
                {ticket.assignment.kind === 'center' ? `${t('offer.center')} · ` : ''}
                {tMaybe(`offer.status.${ticket.assignment.status}`, ticket.assignment.status)}
              </p>
              {ticket.assignment.status !== 'offered' || ticket.assignment.deadlineAt === null ? null : (
                <p className="muted small">
                  {t('offer.deadline')}{' '}
                  <time dateTime={ticket.assignment.deadlineAt}>
                    {formatDate(ticket.assignment.deadlineAt)}
                  </time>
                </p>
              )}
            </div>
          )}
        </section>
      </div>

      {ticket.media === undefined || ticket.media.length === 0 ? null : (
        <section className="card" aria-labelledby="photos-title">
          <h2 id="photos-title">{t('ticket.photos')}</h2>
          <ul className="photos">
            {ticket.media.map((media) => (
              <li key={media.id}>
                <a href={media.url} target="_blank" rel="noreferrer">
                  {media.contentType.startsWith('image/') ? (
                    <img src={media.url} alt={media.filename} loading="lazy" />
                  ) : (
                    media.filename
                  )}
                </a>
              </li>
            ))}
          </ul>
        </section>
      )}

      <section className="card" aria-labelledby="timeline-title">
        <h2 id="timeline-title">
          {t('ticket.timeline')} <span className="live muted small">· {t('ticket.live')}</span>
        </h2>
        <ol className="timeline" data-testid="ticket-timeline" aria-live="polite">
          {timeline.map((event, index) => (
            <li key={`${event.type}-${event.at}-${index}`} data-type={event.type}>
              <time dateTime={event.at}>{formatDate(event.at)}</time>
              <span className="timeline-type">{tMaybe(`event.${event.type}`, event.type)}</span>
              {summarize(event.detail, formatDate) === '' ? null : (
                <span className="timeline-detail muted small">{summarize(event.detail, formatDate)}</span>
              )}
            </li>
          ))}
        </ol>
      </section>

      {ticket.notifications === undefined || ticket.notifications.length === 0 ? null : (
        <section className="card" aria-labelledby="notifications-title">
          <h2 id="notifications-title">{t('ticket.notifications')}</h2>
          <ul className="notifications" data-testid="ticket-notifications">
            {ticket.notifications.map((notification) => (
              <li key={notification.id}>
                <div className="notification-head">
                  <span>+{notification.to}</span>
                  <StatusBadge status={notification.status} />
                  <span className="muted small">
                    {notification.attempts} {t('ticket.attempts')}
                  </span>
                </div>
                {notification.lastError === null ? null : (
                  <p className="field-error">
                    {notification.lastError.code}: {notification.lastError.message}
                  </p>
                )}
                {notification.events === undefined ? null : (
                  <ol className="status-steps">
                    {notification.events.map((event, index) => (
                      <li key={`${event.status}-${index}`}>
                        <StatusBadge status={event.status} />{' '}
                        <time className="muted small" dateTime={event.at}>
                          {formatDate(event.at)}
                        </time>
                        {/* Meta's webhook confirms what the dispatcher recorded: say whose word each step is. */}
                        {event.detail?.source === 'webhook' ? (
                          <span className="muted small"> · {t('ticket.reportedByMeta')}</span>
                        ) : null}
                      </li>
                    ))}
                  </ol>
                )}
              </li>
            ))}
          </ul>
        </section>
      )}
    </article>
  );
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A detail object as one short line: its plain values, never nested structures or internal ids. */
function summarize(
  detail: Record<string, unknown> | null | undefined,
  formatDate: (iso: string) => string,
): string {
  if (detail == null) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(detail)) {
    if (/id$/i.test(key)) continue;
    if (typeof value === 'string' && ISO_TIME.test(value)) parts.push(`${key}: ${formatDate(value)}`);
    else if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      parts.push(`${key}: ${String(value)}`);
    }
  }
  const line = parts.join(' · ');
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}
