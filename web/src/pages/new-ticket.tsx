import { useEffect, useState, type ChangeEvent, type FormEvent } from 'react';
import { api } from '../api';
import { asApiError } from '../components/async-state';
import { useI18n, type MessageKey } from '../i18n';
import { useRouter } from '../router';
import type { Page, Provider, Ticket } from '../types';

type FieldName =
  | 'location'
  | 'specialty'
  | 'description'
  | 'title'
  | 'address'
  | 'reporterName'
  | 'reporterPhone';

const FIELDS: {
  name: FieldName;
  label: MessageKey;
  server: string;
  required?: boolean;
  long?: boolean;
  type?: string;
  autoComplete?: string;
}[] = [
  { name: 'location', label: 'ticket.location', server: 'location', required: true },
  { name: 'specialty', label: 'ticket.specialty', server: 'specialty', required: true },
  { name: 'description', label: 'ticket.description', server: 'description', required: true, long: true },
  { name: 'address', label: 'ticket.address', server: 'address', autoComplete: 'street-address' },
  { name: 'reporterName', label: 'ticket.reporterName', server: 'reporter.name', autoComplete: 'name' },
  {
    name: 'reporterPhone',
    label: 'ticket.reporterPhone',
    server: 'reporter.phone',
    type: 'tel',
    autoComplete: 'tel',
  },
];

interface Photo {
  file: File;
  /** A data: URL (allowed by a strict img-src CSP, unlike blob:). */
  preview: string;
}

const EMPTY: Record<FieldName, string> = {
  location: '',
  specialty: '',
  description: '',
  title: '',
  address: '',
  reporterName: '',
  reporterPhone: '',
};

export function NewTicketPage() {
  const { t, errorText } = useI18n();
  const { navigate } = useRouter();
  const [values, setValues] = useState(EMPTY);
  const [photos, setPhotos] = useState<Photo[]>([]);
  const [error, setError] = useState<{ field: string | null; message: string } | null>(null);
  const [busy, setBusy] = useState(false);
  const [suggestions, setSuggestions] = useState<{ locations: string[]; specialties: string[] }>({
    locations: [],
    specialties: [],
  });

  useEffect(() => {
    let current = true;
    api<Page<Provider>>('GET', '/api/providers?limit=200&active=true').then(
      (page) => {
        if (!current) return;
        const unique = (items: string[]) => [...new Set(items)].sort((a, b) => a.localeCompare(b));
        setSuggestions({
          locations: unique(page.items.map((p) => p.location)),
          specialties: unique(page.items.flatMap((p) => p.specialties)),
        });
      },
      () => undefined,
    );
    return () => {
      current = false;
    };
  }, []);

  // After a refusal, move the keyboard focus to the field the server named.
  useEffect(() => {
    if (error?.field == null) return;
    const id = fieldId(error.field);
    document.getElementById(id)?.focus();
  }, [error]);

  const set = (name: FieldName) => (event: ChangeEvent<HTMLInputElement | HTMLTextAreaElement>) =>
    setValues((previous) => ({ ...previous, [name]: event.target.value }));

  const addPhotos = async (event: ChangeEvent<HTMLInputElement>) => {
    const input = event.target;
    const files = [...(input.files ?? [])];
    input.value = '';
    const added = await Promise.all(
      files.map(async (file) => ({ file, preview: await readAsDataUrl(file) })),
    );
    setPhotos((previous) => [...previous, ...added]);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    const form = new FormData();
    for (const field of FIELDS) {
      const value = values[field.name];
      if (field.required === true || value.trim() !== '') form.append(field.server, value);
    }
    for (const photo of photos) form.append('media', photo.file, photo.file.name);
    try {
      const created = await api<{ ticket: Ticket }>('POST', '/api/tickets', form);
      navigate(`/tickets/${created.ticket.id}`);
    } catch (caught) {
      const apiError = asApiError(caught);
      setError({
        field: apiError.field,
        message: errorText(apiError),
      });
    } finally {
      setBusy(false);
    }
  };

  const errorFor = (server: string) =>
    error !== null && error.field !== null && (error.field === server || error.field.startsWith(`${server}[`))
      ? error.message
      : null;
  const isKnownField =
    error?.field != null && [...FIELDS.map((f) => f.server), 'media'].some((f) => errorFor(f) !== null);

  return (
    <section aria-labelledby="new-ticket-title">
      <h1 id="new-ticket-title">{t('ticket.newTitle')}</h1>
      <form className="card form" onSubmit={(event) => void submit(event)} data-testid="new-ticket-form">
        {error === null ? null : (
          <div className="alert alert-error" role="alert" data-testid="form-error">
            {t('ticket.formRefused')}
            {isKnownField ? null : <> {error.message}</>}
          </div>
        )}
        <div className="form-grid">
          {FIELDS.map((field) => {
            const id = fieldId(field.server);
            const fieldError = errorFor(field.server);
            const common = {
              id,
              name: field.server,
              value: values[field.name],
              required: field.required === true,
              'aria-invalid': fieldError === null ? undefined : true,
              'aria-describedby': fieldError === null ? undefined : `${id}-error`,
              ...(field.autoComplete === undefined ? {} : { autoComplete: field.autoComplete }),
            } as const;
            return (
              <div className={`field${field.long === true ? ' field-wide' : ''}`} key={field.name}>
                <label htmlFor={id}>
                  {t(field.label)}
                  {field.required === true ? (
                    <span className="required"> ({t('common.required')})</span>
                  ) : null}
                </label>
                {field.long === true ? (
                  <textarea {...common} rows={5} onChange={set(field.name)} />
                ) : (
                  <input
                    {...common}
                    type={field.type ?? 'text'}
                    onChange={set(field.name)}
                    {...(field.name === 'location' ? { list: 'known-locations' } : {})}
                    {...(field.name === 'specialty' ? { list: 'known-specialties' } : {})}
                  />
                )}
                {fieldError === null ? null : (
                  <p className="field-error" id={`${id}-error`}>
                    {fieldError}
                  </p>
                )}
              </div>
            );
          })}
          <div className="field field-wide">
            <label htmlFor="field-media">{t('ticket.photos')}</label>
            <input
              id="field-media"
              name="media"
              type="file"
              accept="image/jpeg,image/png"
              multiple
              aria-describedby="field-media-hint"
              onChange={(event) => void addPhotos(event)}
            />
            <p className="hint" id="field-media-hint">
              {t('ticket.photosHint')}
            </p>
            {errorFor('media') === null ? null : <p className="field-error">{errorFor('media')}</p>}
            {photos.length === 0 ? null : (
              <ul className="previews" data-testid="photo-previews">
                {photos.map((photo, index) => (
                  <li key={`${photo.file.name}-${index}`}>
                    <img src={photo.preview} alt={photo.file.name} />
                    <button
                      type="button"
                      className="button button-small"
                      aria-label={t('ticket.removePhoto', { name: photo.file.name })}
                      onClick={() => setPhotos((previous) => previous.filter((_, i) => i !== index))}
                    >
                      ×
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
        </div>
        <datalist id="known-locations">
          {suggestions.locations.map((location) => (
            <option key={location} value={location} />
          ))}
        </datalist>
        <datalist id="known-specialties">
          {suggestions.specialties.map((specialty) => (
            <option key={specialty} value={specialty} />
          ))}
        </datalist>
        <div className="form-actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? t('ticket.creating') : t('ticket.create')}
          </button>
        </div>
      </form>
    </section>
  );
}

function fieldId(serverField: string): string {
  const base = serverField.replace(/\[\d+\]$/, '');
  return `field-${base.replace(/\./g, '-')}`;
}

function readAsDataUrl(file: File): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(typeof reader.result === 'string' ? reader.result : '');
    reader.onerror = () => reject(reader.error ?? new Error('cannot read the file'));
    reader.readAsDataURL(file);
  });
}
