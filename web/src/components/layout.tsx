import type { ReactNode } from 'react';
import { useI18n, type MessageKey } from '../i18n';
import { Link, useRouter } from '../router';
import { useSession } from '../session';
import { LanguageSwitch } from './language-switch';

export function Layout({ children }: { children: ReactNode }) {
  const { t } = useI18n();
  const { path } = useRouter();
  const { session, logout } = useSession();
  const links: { to: string; label: MessageKey }[] = [
    { to: '/tickets', label: 'nav.tickets' },
    { to: '/tickets/new', label: 'nav.newTicket' },
    { to: '/providers', label: 'nav.providers' },
    { to: '/messages', label: 'nav.messages' },
  ];
  if (session.sandbox) links.push({ to: '/sandbox', label: 'nav.sandbox' });
  if (session.user.role === 'admin') links.push({ to: '/users', label: 'nav.users' });
  const isCurrent = (to: string) =>
    to === '/tickets'
      ? path === '/tickets' || (path.startsWith('/tickets/') && path !== '/tickets/new')
      : path.startsWith(to);
  return (
    <>
      <a className="skip-link" href="#main">
        {t('app.skip')}
      </a>
      <header className="topbar">
        <div className="topbar-inner">
          <Link to="/tickets" className="brand">
            {t('app.name')}
          </Link>
          <div className="topbar-actions">
            <span className="user-email" title={session.user.email}>
              {session.user.email}
            </span>
            <LanguageSwitch />
            <button type="button" className="button button-ghost" onClick={() => void logout()}>
              {t('nav.logout')}
            </button>
          </div>
        </div>
        <nav aria-label={t('nav.menu')} className="nav">
          <ul>
            {links.map((link) => (
              <li key={link.to}>
                <Link to={link.to} aria-current={isCurrent(link.to) ? 'page' : undefined}>
                  {t(link.label)}
                </Link>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" className="main" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
