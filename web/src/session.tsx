import { createContext, useContext } from 'react';
import type { SessionInfo } from './types';

export interface SessionValue {
  session: SessionInfo;
  logout: () => Promise<void>;
}

export const SessionContext = createContext<SessionValue | null>(null);

export function useSession(): SessionValue {
  const value = useContext(SessionContext);
  if (value === null) throw new Error('useSession outside SessionContext');
  return value;
}
