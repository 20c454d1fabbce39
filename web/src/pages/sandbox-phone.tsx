import { useEffect, useRef, useState, type FormEvent } from 'react';
import { api } from '../api';
import { asApiError, LoadError, Loading, useLoad } from '../components/async-state';
import { useI18n } from '../i18n';
import { Link } from '../router';
import type { ConversationItem, InboxSummary } from '../types';

const POLL_MS = 1500;

/** A button the phone shows under a business message. */
interface PhoneButton {
  index: number;
  title: string;
}

/**
 * The sandbox phone: every number the emulator delivered to, and its conversation as WhatsApp shows
 * it. Tapping a button or sending a text goes through POST /api/sandbox/inbox/:waId/reply, which
 * reaches this service as Meta's inbound webhook would.
 */
export function SandboxPhonePage({ waId }: { waId: string | null }) {
  const { t, formatDate } = useI18n();
  const numbers = useLoad(() => api<InboxSummary[]>('GET', '/api/sandbox/inbox'), 'inbox', POLL_MS * 2);

  return (
    <section aria-labelledby="sandbox-title">
      <h1 id="sandbox-title">{t('sandbox.title')}</h1>
      <p className="muted">{t('sandbox.intro')}</p>
      <div className={`phone-layout${waId === null ? '' : ' has-selection'}`}>
        <nav className="phone-numbers card" aria-label={t('sandbox.numbers')}>
          <h2>{t('sandbox.numbers')}</h2>
          {numbers.result.state === 'loading' ? <Loading /> : null}
          {numbers.result.state === 'error' ? <LoadError error={numbers.result.error} /> : null}
          {numbers.result.state === 'ready' ? (
            numbers.result.value.length === 0 ? (
              <p className="muted">{t('sandbox.noNumbers')}</p>
            ) : (
              <ul data-testid="sandbox-numbers">
                {[...numbers.result.value]
                  .sort((a, b) => (b.lastReceivedAt ?? '').localeCompare(a.lastReceivedAt ?? ''))
                  .map((number) => (
                    <li key={number.waId}>
                      <Link
                        to={`/sandbox/${number.waId}`}
                        aria-current={number.waId === waId ? 'page' : undefined}
                        className="phone-number-link"
                      >
                        <span>+{number.waId}</span>
                        <span className="muted small">
                          {number.lastReceivedAt === null ? '' : formatDate(number.lastReceivedAt)}
                        </span>
                      </Link>
                    </li>
                  ))}
              </ul>
            )
          ) : null}
        </nav>
        <div className="phone-conversation">
          {waId === null ? (
            <p className="muted">{t('sandbox.pick')}</p>
          ) : (
            <Conversation key={waId} waId={waId} />
          )}
        </div>
      </div>
    </section>
  );
}

function Conversation({ waId }: { waId: string }) {
  const { t, formatDate } = useI18n();
  const { result, reload } = useLoad(
    () => api<ConversationItem[]>('GET', `/api/sandbox/inbox/${waId}/conversation`),
    waId,
    POLL_MS,
  );
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const endRef = useRef<HTMLLIElement>(null);
  const count = result.state === 'ready' ? result.value.length : 0;

  useEffect(() => {
    endRef.current?.scrollIntoView({ block: 'nearest' });
  }, [count]);

  const reply = async (body: Record<string, unknown>) => {
    setError(null);
    try {
      await api('POST', `/api/sandbox/inbox/${waId}/reply`, body);
      await reload();
    } catch (caught) {
      setError(`${t('sandbox.tapFailed')}: ${asApiError(caught).message}`);
    }
  };

  const send = async (event: FormEvent) => {
    event.preventDefault();
    if (text.trim() === '') return;
    await reply({ text });
    setText('');
  };

  return (
    <div className="phone" data-testid="sandbox-phone">
      <div className="phone-head">
        <Link to="/sandbox" className="phone-back">
          ← {t('sandbox.back')}
        </Link>
        <span className="strong">+{waId}</span>
      </div>
      {result.state === 'loading' ? <Loading /> : null}
      {result.state === 'error' ? <LoadError error={result.error} onRetry={() => void reload()} /> : null}
      {result.state === 'ready' ? (
        <ol className="chat" aria-live="polite" data-testid="sandbox-conversation">
          {result.value.map((item) => (
            <li
              key={item.wamid}
              className={`bubble ${item.direction === 'outbound' ? 'bubble-in' : 'bubble-out'}`}
              data-direction={item.direction}
            >
              {item.direction === 'outbound' ? (
                <BusinessMessage item={item} onTap={(button) => void reply({ button, wamid: item.wamid })} />
              ) : (
                <p className="bubble-text">{item.text}</p>
              )}
              <span className="bubble-meta">
                {formatDate(item.receivedAt)}
                {item.direction === 'outbound' ? <Ticks status={item.status} /> : null}
              </span>
            </li>
          ))}
          <li ref={endRef} aria-hidden="true" className="chat-end" />
        </ol>
      ) : null}
      {error === null ? null : (
        <p className="alert alert-error" role="alert">
          {error}
        </p>
      )}
      <form className="chat-compose" onSubmit={(event) => void send(event)}>
        <label htmlFor="sandbox-reply" className="visually-hidden">
          {t('sandbox.reply')}
        </label>
        <input
          id="sandbox-reply"
          placeholder={t('sandbox.reply')}
          value={text}
          onChange={(event) => setText(event.target.value)}
        />
        <button type="submit" className="button button-primary">
          {t('sandbox.send')}
        </button>
      </form>
    </div>
  );
}

function BusinessMessage({ item, onTap }: { item: ConversationItem; onTap: (button: PhoneButton) => void }) {
  const { t } = useI18n();
  const request = item.request;
  const buttons = buttonsOf(item);
  let body: string;
  let header: string | null = null;
  let footer: string | null = null;
  if (request?.interactive !== undefined) {
    header = request.interactive.header?.text ?? null;
    body = request.interactive.body.text;
    footer = request.interactive.footer?.text ?? null;
  } else if (request?.template !== undefined) {
    header = t('sandbox.template', { name: request.template.name });
    body = (request.template.components ?? [])
      .filter((component) => component.type === 'body')
      .flatMap((component) => component.parameters ?? [])
      .map((parameter) => parameter.text ?? '')
      .join('\n');
  } else if (request?.image !== undefined) {
    header = t('sandbox.image');
    body = request.image.caption ?? '';
  } else if (request?.document !== undefined) {
    header = t('sandbox.document');
    body = [request.document.filename, request.document.caption].filter(Boolean).join('\n');
  } else {
    body = request?.text?.body ?? item.text ?? '';
  }
  return (
    <>
      {header === null ? null : <p className="bubble-header">{header}</p>}
      <p className="bubble-text">{body}</p>
      {footer === null ? null : <p className="bubble-footer muted small">{footer}</p>}
      {buttons.length === 0 ? null : (
        <div className="bubble-buttons">
          {buttons.map((button) => (
            <button type="button" key={`${button.index}-${button.title}`} onClick={() => onTap(button)}>
              {button.title}
            </button>
          ))}
        </div>
      )}
    </>
  );
}

/**
 * The buttons the phone shows: those the API lists (when it does), else the reply buttons of an
 * interactive message or the quick replies a template's send names (by payload).
 */
function buttonsOf(item: ConversationItem): PhoneButton[] {
  if (Array.isArray(item.buttons)) return item.buttons.map(({ index, title }) => ({ index, title }));
  const request = item.request;
  if (request?.interactive?.type === 'button') {
    return request.interactive.action.buttons.map((button, index) => ({ index, title: button.reply.title }));
  }
  if (request?.template !== undefined) {
    return (request.template.components ?? [])
      .filter((component) => component.type === 'button' && component.sub_type === 'quick_reply')
      .map((component) => ({
        index: Number(component.index ?? 0),
        title: component.parameters?.find((parameter) => parameter.type === 'payload')?.payload ?? '',
      }))
      .filter((button) => button.title !== '')
      .sort((a, b) => a.index - b.index);
  }
  return [];
}

function Ticks({ status }: { status: string | undefined }) {
  const { tMaybe } = useI18n();
  if (status === undefined) return null;
  const marks = status === 'sent' ? '✓' : status === 'failed' ? '!' : '✓✓';
  return (
    <span
      className={`ticks ticks-${status}`}
      title={tMaybe(`status.${status}`, status)}
      aria-label={tMaybe(`status.${status}`, status)}
    >
      {marks}
    </span>
  );
}
