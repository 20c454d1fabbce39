import { useCallback, useEffect, useMemo, useState } from 'react';
import { api, onUnauthorized } from './api';
import { Layout } from './components/layout';
import { Loading } from './components/async-state';
import { LoginPage } from './pages/login';
import { MessagesPage } from './pages/messages';
import { NewTicketPage } from './pages/new-ticket';
import { ProvidersPage } from './pages/providers';
import { SandboxPhonePage } from './pages/sandbox-phone';
import { TicketDetailPage } from './pages/ticket-detail';
import { TicketsPage } from './pages/tickets';
import { UsersPage } from './pages/users';
import { useRouter } from './router';
import { SessionContext } from './session';
import type { SessionInfo } from './types';

type SessionState = { state: 'checking' } | { state: 'anonymous' } | { state: 'in'; session: SessionInfo };

export function App() {
  const { path, navigate } = useRouter();
  const [session, setSession] = useState<SessionState>({ state: 'checking' });

  useEffect(() => {
    let current = true;
    api<SessionInfo>('GET', '/api/auth/me').then(
      (info) => current && setSession({ state: 'in', session: info }),
      () => current && setSession({ state: 'anonymous' }),
    );
    const stop = onUnauthorized(() => setSession({ state: 'anonymous' }));
    return () => {
      current = false;
      stop();
    };
  }, []);

  const logout = useCallback(async () => {
    try {
      await api('POST', '/api/auth/logout');
    } finally {
      setSession({ state: 'anonymous' });
      navigate('/login', { replace: true });
    }
  }, [navigate]);
  const sessionValue = useMemo(
    () => (session.state === 'in' ? { session: session.session, logout } : null),
    [session, logout],
  );

  if (session.state === 'checking') return <Loading />;
  if (session.state === 'anonymous' || sessionValue === null) {
    return (
      <LoginPage
        onLoggedIn={(info) => {
          setSession({ state: 'in', session: info });
          if (path === '/login' || path === '/') navigate('/tickets', { replace: true });
        }}
      />
    );
  }
  return (
    <SessionContext.Provider value={sessionValue}>
      <Layout>
        <Page
          path={path}
          sandbox={sessionValue.session.sandbox}
          isAdmin={sessionValue.session.user.role === 'admin'}
        />
      </Layout>
    </SessionContext.Provider>
  );
}

function Page({ path, sandbox, isAdmin }: { path: string; sandbox: boolean; isAdmin: boolean }) {
  const { navigate } = useRouter();
  const ticket = /^\/tickets\/([^/]+)$/.exec(path);
  const phone = /^\/sandbox(?:\/(\d+))?$/.exec(path);
  useEffect(() => {
    if (path === '/' || path === '/login') navigate('/tickets', { replace: true });
  }, [path, navigate]);
  if (path === '/tickets/new') return <NewTicketPage />;
  if (ticket?.[1] !== undefined) return <TicketDetailPage id={decodeURIComponent(ticket[1])} />;
  if (path === '/providers') return <ProvidersPage />;
  if (path === '/messages') return <MessagesPage />;
  if (phone !== null && sandbox) return <SandboxPhonePage waId={phone[1] ?? null} />;
  if (path === '/users' && isAdmin) return <UsersPage />;
  return <TicketsPage />;
}
