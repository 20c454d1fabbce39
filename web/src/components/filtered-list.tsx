import { useState, type FormEvent, type ReactNode } from 'react';
import { api } from '../api';
import { useI18n } from '../i18n';
import { useRouter } from '../router';
import type { Page } from '../types';
import { asApiError, LoadError, Loading, useLoad, type Loadable } from './async-state';

/**
 * A list page's state: filters kept in the URL (so a filtered view can be shared or reloaded), the first
 * page loaded and refreshed every `refreshMs`, and "more" pages appended through the API's cursor.
 */
export function useFilteredPages<T, F extends string>(options: {
  /** The page's own path, e.g. `/tickets`. */
  pagePath: string;
  /** The API path, e.g. `/api/tickets`. */
  apiPath: string;
  filters: readonly F[];
  refreshMs: number;
}) {
  const { search, navigate } = useRouter();
  const applied = Object.fromEntries(options.filters.map((name) => [name, search.get(name) ?? ''])) as Record<
    F,
    string
  >;
  const [draft, setDraft] = useState(applied);
  const [more, setMore] = useState<{ items: T[]; cursor: string | null } | null>(null);
  const [moreError, setMoreError] = useState<string | null>(null);

  const query = (cursor?: string): string => {
    const params = new URLSearchParams({ limit: '50' });
    for (const name of options.filters) if (applied[name] !== '') params.set(name, applied[name]);
    if (cursor !== undefined) params.set('cursor', cursor);
    return `${options.apiPath}?${params.toString()}`;
  };
  const key = options.filters.map((name) => applied[name]).join('|');
  const { result, reload } = useLoad(() => api<Page<T>>('GET', query()), key, options.refreshMs);

  const apply = (event: FormEvent): void => {
    event.preventDefault();
    const params = new URLSearchParams();
    for (const name of options.filters) {
      const value = draft[name].trim();
      if (value !== '') params.set(name, value);
    }
    setMore(null);
    navigate(`${options.pagePath}${params.size > 0 ? `?${params.toString()}` : ''}`);
  };

  const loadMore = async (cursor: string): Promise<void> => {
    try {
      const page = await api<Page<T>>('GET', query(cursor));
      setMore((previous) => ({
        items: [...(previous?.items ?? []), ...page.items],
        cursor: page.nextCursor,
      }));
    } catch (error) {
      setMoreError(asApiError(error).message);
    }
  };

  const items = result.state === 'ready' ? [...result.value.items, ...(more?.items ?? [])] : [];
  const nextCursor =
    result.state === 'ready' ? (more === null ? result.value.nextCursor : more.cursor) : null;
  const setFilter = (name: F, value: string): void => setDraft({ ...draft, [name]: value });
  return { draft, setFilter, apply, result, reload, items, nextCursor, loadMore, moreError };
}

/** The filter form: its fields, then the Filter button. */
export function FilterForm({
  onSubmit,
  children,
}: {
  onSubmit: (event: FormEvent) => void;
  children: ReactNode;
}) {
  const { t } = useI18n();
  return (
    <form className="filters card" onSubmit={onSubmit} role="search">
      {children}
      <div className="filter-actions">
        <button type="submit" className="button">
          {t('common.filter')}
        </button>
      </div>
    </form>
  );
}

/** One labelled filter: a text box, or a select with "all" first when `choices` are given. */
export function FilterField(props: {
  id: string;
  label: string;
  value: string;
  onChange: (value: string) => void;
  type?: 'text' | 'tel';
  choices?: readonly { value: string; label: string }[];
}) {
  const { t } = useI18n();
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      {props.choices === undefined ? (
        <input
          id={props.id}
          type={props.type ?? 'text'}
          value={props.value}
          onChange={(event) => props.onChange(event.target.value)}
        />
      ) : (
        <select id={props.id} value={props.value} onChange={(event) => props.onChange(event.target.value)}>
          <option value="">{t('common.all')}</option>
          {props.choices.map((choice) => (
            <option key={choice.value} value={choice.value}>
              {choice.label}
            </option>
          ))}
        </select>
      )}
    </div>
  );
}

/** Loading and error states of the first page, then `children` once it is ready, then "more". */
export function ListBody<T>(props: {
  result: Loadable<Page<T>>;
  reload: () => Promise<void>;
  nextCursor: string | null;
  loadMore: (cursor: string) => Promise<void>;
  moreError: string | null;
  children: ReactNode;
}) {
  const { t } = useI18n();
  const { nextCursor } = props;
  return (
    <>
      {props.result.state === 'loading' ? <Loading /> : null}
      {props.result.state === 'error' ? (
        <LoadError error={props.result.error} onRetry={() => void props.reload()} />
      ) : null}
      {props.result.state === 'ready' ? props.children : null}
      {props.moreError === null ? null : <p className="alert alert-error">{props.moreError}</p>}
      {nextCursor === null ? null : (
        <button type="button" className="button" onClick={() => void props.loadMore(nextCursor)}>
          {t('common.more')}
        </button>
      )}
    </>
  );
}
