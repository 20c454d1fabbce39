import { FilterField, FilterForm, ListBody, useFilteredPages } from '../components/filtered-list';
import { StatusBadge } from '../components/status-badge';
import { useI18n } from '../i18n';
import { Link } from '../router';
import type { Message } from '../types';

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
  const list = useFilteredPages<Message, 'status' | 'to' | 'ticketId'>({
    pagePath: '/messages',
    apiPath: '/api/messages',
    filters: ['status', 'to', 'ticketId'],
    refreshMs: 5000,
  });

  return (
    <section aria-labelledby="messages-title">
      <h1 id="messages-title">{t('messages.title')}</h1>
      <FilterForm onSubmit={list.apply}>
        <FilterField
          id="messages-status"
          label={t('ticket.status')}
          value={list.draft.status}
          onChange={(value) => list.setFilter('status', value)}
          choices={STATUSES.map((status) => ({ value: status, label: tMaybe(`status.${status}`, status) }))}
        />
        <FilterField
          id="messages-to"
          label={t('messages.to')}
          type="tel"
          value={list.draft.to}
          onChange={(value) => list.setFilter('to', value)}
        />
        <FilterField
          id="messages-ticket"
          label={t('messages.ticket')}
          value={list.draft.ticketId}
          onChange={(value) => list.setFilter('ticketId', value)}
        />
      </FilterForm>
      <ListBody {...list}>
        <ul className="list" data-testid="message-list">
          {list.items.length === 0 ? <li className="muted">{t('common.empty')}</li> : null}
          {list.items.map((message) => (
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
      </ListBody>
    </section>
  );
}
