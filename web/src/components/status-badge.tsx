import { useI18n } from '../i18n';

const TONES: Record<string, string> = {
  notified: 'info',
  sent: 'info',
  delivered: 'info',
  read: 'ok',
  accepted: 'ok',
  received: 'ok',
  unassigned: 'warn',
  queued: 'muted',
  sending: 'muted',
  retrying: 'warn',
  escalated: 'warn',
  declined: 'bad',
  failed: 'bad',
};

/** A status as a coloured pill; the text carries the meaning, the colour only helps. */
export function StatusBadge({ status }: { status: string }) {
  const { tMaybe } = useI18n();
  return (
    <span className={`badge badge-${TONES[status] ?? 'muted'}`} data-status={status}>
      {tMaybe(`status.${status}`, status)}
    </span>
  );
}
