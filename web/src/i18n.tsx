import { createContext, useCallback, useContext, useMemo, useState, type ReactNode } from 'react';

/** Spanish first (the default); English must have every key (the type says so). */
const es = {
  'app.name': 'KeyhomeKey Dispatch',
  'app.skip': 'Saltar al contenido',
  'lang.switch': 'English',
  'lang.switchLabel': 'Cambiar el idioma a inglés',
  'nav.tickets': 'Tickets',
  'nav.newTicket': 'Nuevo ticket',
  'nav.providers': 'Proveedores',
  'nav.messages': 'Mensajes',
  'nav.sandbox': 'Teléfono sandbox',
  'nav.logout': 'Cerrar sesión',
  'nav.menu': 'Navegación principal',
  'login.title': 'Iniciar sesión',
  'login.email': 'Correo electrónico',
  'login.password': 'Contraseña',
  'login.submit': 'Entrar',
  'login.failed': 'Correo o contraseña incorrectos.',
  'login.rateLimited': 'Demasiados intentos. Espera un minuto e inténtalo de nuevo.',
  'common.loading': 'Cargando…',
  'common.error': 'Algo salió mal',
  'common.retry': 'Reintentar',
  'common.save': 'Guardar',
  'common.cancel': 'Cancelar',
  'common.edit': 'Editar',
  'common.none': 'Ninguno',
  'common.all': 'Todos',
  'common.filter': 'Filtrar',
  'common.clear': 'Limpiar',
  'common.more': 'Cargar más',
  'common.empty': 'No hay nada aquí todavía.',
  'common.yes': 'Sí',
  'common.no': 'No',
  'common.required': 'obligatorio',
  'common.network': 'No se pudo contactar el servidor.',
  'status.notified': 'Notificado',
  'status.unassigned': 'Sin asignar',
  'status.accepted': 'Aceptado',
  'status.declined': 'Rechazado',
  'status.escalated': 'Escalado',
  'status.queued': 'En cola',
  'status.sending': 'Enviando',
  'status.retrying': 'Reintentando',
  'status.sent': 'Enviado',
  'status.delivered': 'Entregado',
  'status.read': 'Leído',
  'status.failed': 'Fallido',
  'status.received': 'Recibido',
  'event.candidate_notified': 'Proveedor notificado',
  'event.accepted': 'Aceptado por el proveedor',
  'event.declined': 'Rechazado por el proveedor',
  'event.expired': 'Sin respuesta a tiempo',
  'event.reassigned': 'Reasignado',
  'event.escalated_to_center': 'Escalado a la central',
  'event.taken_by_center': 'Tomado por la central',
  'event.message_status': 'Estado del mensaje',
  'event.created': 'Ticket creado',
  'event.provider_notified': 'Proveedor notificado',
  'event.no_provider': 'Ningún proveedor coincide',
  'event.center_notified': 'Central notificada',
  'event.delivery_failed': 'El mensaje no se pudo entregar',
  'event.escalated': 'Escalado',
  'event.tap_ignored': 'Respuesta ignorada',
  'offer.title': 'Oferta vigente',
  'offer.deadline': 'Debe responder antes de',
  'offer.center': 'Central',
  'offer.status.offered': 'Esperando respuesta',
  'offer.status.accepted': 'Aceptada',
  'offer.status.taken': 'Tomada por la central',
  'offer.status.declined': 'Rechazada',
  'offer.status.expired': 'Vencida',
  'offer.status.failed': 'No entregada',
  'offer.status.superseded': 'Reemplazada',
  'ticket.number': 'Número',
  'ticket.title': 'Título',
  'ticket.location': 'Ubicación',
  'ticket.specialty': 'Especialidad',
  'ticket.description': 'Descripción',
  'ticket.address': 'Dirección',
  'ticket.reporterName': 'Nombre de quien reporta',
  'ticket.reporterPhone': 'Teléfono de quien reporta',
  'ticket.photos': 'Fotos',
  'ticket.photosHint': 'JPEG o PNG, hasta 5 MB cada una, máximo 10.',
  'ticket.removePhoto': 'Quitar {name}',
  'ticket.status': 'Estado',
  'ticket.provider': 'Proveedor',
  'ticket.noProvider': 'Sin proveedor asignado',
  'ticket.created': 'Creado',
  'ticket.reporter': 'Reportado por',
  'ticket.create': 'Crear ticket',
  'ticket.creating': 'Creando…',
  'ticket.newTitle': 'Nuevo ticket',
  'ticket.formRefused': 'El servidor no aceptó el ticket. Revisa el campo marcado.',
  'ticket.listTitle': 'Tickets',
  'ticket.timeline': 'Línea de tiempo',
  'ticket.notifications': 'Notificaciones',
  'ticket.live': 'Se actualiza en vivo',
  'ticket.attempts': 'intentos',
  'ticket.reportedByMeta': 'informado por WhatsApp',
  'ticket.match.local_specialty': 'misma ubicación y especialidad',
  'ticket.match.local_location': 'misma ubicación',
  'ticket.match.directory': 'directorio externo',
  'ticket.match.center': 'central',
  'ticket.match.manual': 'manual',
  'ticket.notFound': 'Ese ticket no existe.',
  'ticket.back': 'Volver a los tickets',
  'provider.title': 'Proveedores',
  'provider.name': 'Nombre',
  'provider.phone': 'Teléfono',
  'provider.location': 'Ubicación',
  'provider.specialties': 'Especialidades',
  'provider.specialtiesHint': 'Separadas por comas',
  'provider.active': 'Activo',
  'provider.inactive': 'Inactivo',
  'provider.add': 'Agregar proveedor',
  'provider.edit': 'Editar proveedor',
  'provider.deactivate': 'Desactivar',
  'provider.activate': 'Activar',
  'provider.import': 'Importar CSV',
  'provider.importFile': 'Archivo CSV',
  'provider.importHint':
    'Columnas: name, phone, location, specialties (separadas por ; o |), active opcional.',
  'provider.importRun': 'Importar',
  'provider.importReport': '{total} filas: {created} creados, {updated} actualizados, {refused} rechazados.',
  'provider.importRow': 'Fila {row}',
  'provider.adminOnly': 'Solo un administrador puede cambiar proveedores.',
  'messages.title': 'Mensajes',
  'messages.to': 'Número',
  'messages.ticket': 'Ticket',
  'messages.kind': 'Tipo',
  'messages.direction': 'Dirección',
  'messages.outbound': 'Saliente',
  'messages.inbound': 'Entrante',
  'messages.error': 'Error',
  'messages.date': 'Fecha',
  'sandbox.title': 'Teléfono sandbox',
  'sandbox.intro':
    'Cada número que recibió mensajes, como lo vería en WhatsApp. Los botones responden como lo haría el proveedor.',
  'sandbox.numbers': 'Números',
  'sandbox.noNumbers': 'Aún no se ha enviado ningún mensaje.',
  'sandbox.pick': 'Elige un número para ver su conversación.',
  'sandbox.reply': 'Escribe una respuesta',
  'sandbox.send': 'Enviar',
  'sandbox.template': 'Plantilla {name}',
  'sandbox.image': 'Imagen',
  'sandbox.document': 'Documento',
  'sandbox.tapFailed': 'No se pudo tocar el botón',
  'sandbox.back': 'Números',
  'error.invalid_phone_number': 'Número de teléfono no válido.',
  'error.file_too_large': 'El archivo es demasiado grande.',
  'error.unsupported_media_type': 'Tipo de archivo no aceptado (usa JPEG o PNG).',
  'error.too_many_files': 'Demasiados archivos (máximo 10).',
  'error.validation_error': 'Valor no válido: {message}',
  'error.provider_phone_taken': 'Otro proveedor ya tiene ese teléfono.',
  'error.forbidden': 'Tu rol no permite hacer esto.',
  'error.rate_limited': 'Demasiadas solicitudes; espera un momento.',
  'nav.users': 'Usuarios',
  'users.title': 'Usuarios',
  'users.email': 'Correo electrónico',
  'users.password': 'Contraseña (mínimo 10 caracteres)',
  'users.role': 'Rol',
  'users.role.admin': 'Administrador',
  'users.role.operator': 'Operador',
  'users.add': 'Agregar usuario',
  'users.created': 'Usuario {email} creado.',
} as const;

export type MessageKey = keyof typeof es;

const en: Record<MessageKey, string> = {
  'app.name': 'KeyhomeKey Dispatch',
  'app.skip': 'Skip to content',
  'lang.switch': 'Español',
  'lang.switchLabel': 'Switch the language to Spanish',
  'nav.tickets': 'Tickets',
  'nav.newTicket': 'New ticket',
  'nav.providers': 'Providers',
  'nav.messages': 'Messages',
  'nav.sandbox': 'Sandbox phone',
  'nav.logout': 'Log out',
  'nav.menu': 'Main navigation',
  'login.title': 'Log in',
  'login.email': 'Email',
  'login.password': 'Password',
  'login.submit': 'Log in',
  'login.failed': 'Wrong email or password.',
  'login.rateLimited': 'Too many attempts. Wait a minute and try again.',
  'common.loading': 'Loading…',
  'common.error': 'Something went wrong',
  'common.retry': 'Retry',
  'common.save': 'Save',
  'common.cancel': 'Cancel',
  'common.edit': 'Edit',
  'common.none': 'None',
  'common.all': 'All',
  'common.filter': 'Filter',
  'common.clear': 'Clear',
  'common.more': 'Load more',
  'common.empty': 'Nothing here yet.',
  'common.yes': 'Yes',
  'common.no': 'No',
  'common.required': 'required',
  'common.network': 'The server could not be reached.',
  'status.notified': 'Notified',
  'status.unassigned': 'Unassigned',
  'status.accepted': 'Accepted',
  'status.declined': 'Declined',
  'status.escalated': 'Escalated',
  'status.queued': 'Queued',
  'status.sending': 'Sending',
  'status.retrying': 'Retrying',
  'status.sent': 'Sent',
  'status.delivered': 'Delivered',
  'status.read': 'Read',
  'status.failed': 'Failed',
  'status.received': 'Received',
  'event.candidate_notified': 'Provider notified',
  'event.accepted': 'Accepted by the provider',
  'event.declined': 'Declined by the provider',
  'event.expired': 'No answer in time',
  'event.reassigned': 'Reassigned',
  'event.escalated_to_center': 'Escalated to the center',
  'event.taken_by_center': 'Taken by the center',
  'event.message_status': 'Message status',
  'event.created': 'Ticket created',
  'event.provider_notified': 'Provider notified',
  'event.no_provider': 'No provider matches',
  'event.center_notified': 'Center notified',
  'event.delivery_failed': 'The message could not be delivered',
  'event.escalated': 'Escalated',
  'event.tap_ignored': 'Reply ignored',
  'offer.title': 'Current offer',
  'offer.deadline': 'Must answer before',
  'offer.center': 'Center',
  'offer.status.offered': 'Waiting for an answer',
  'offer.status.accepted': 'Accepted',
  'offer.status.taken': 'Taken by the center',
  'offer.status.declined': 'Declined',
  'offer.status.expired': 'Expired',
  'offer.status.failed': 'Not delivered',
  'offer.status.superseded': 'Superseded',
  'ticket.number': 'Number',
  'ticket.title': 'Title',
  'ticket.location': 'Location',
  'ticket.specialty': 'Specialty',
  'ticket.description': 'Description',
  'ticket.address': 'Address',
  'ticket.reporterName': "Reporter's name",
  'ticket.reporterPhone': "Reporter's phone",
  'ticket.photos': 'Photos',
  'ticket.photosHint': 'JPEG or PNG, up to 5 MB each, at most 10.',
  'ticket.removePhoto': 'Remove {name}',
  'ticket.status': 'Status',
  'ticket.provider': 'Provider',
  'ticket.noProvider': 'No provider assigned',
  'ticket.created': 'Created',
  'ticket.reporter': 'Reported by',
  'ticket.create': 'Create ticket',
  'ticket.creating': 'Creating…',
  'ticket.newTitle': 'New ticket',
  'ticket.formRefused': 'The server did not accept the ticket. Check the marked field.',
  'ticket.listTitle': 'Tickets',
  'ticket.timeline': 'Timeline',
  'ticket.notifications': 'Notifications',
  'ticket.live': 'Updates live',
  'ticket.attempts': 'attempts',
  'ticket.reportedByMeta': 'reported by WhatsApp',
  'ticket.match.local_specialty': 'same location and specialty',
  'ticket.match.local_location': 'same location',
  'ticket.match.directory': 'external directory',
  'ticket.match.center': 'center',
  'ticket.match.manual': 'manual',
  'ticket.notFound': 'That ticket does not exist.',
  'ticket.back': 'Back to tickets',
  'provider.title': 'Providers',
  'provider.name': 'Name',
  'provider.phone': 'Phone',
  'provider.location': 'Location',
  'provider.specialties': 'Specialties',
  'provider.specialtiesHint': 'Comma-separated',
  'provider.active': 'Active',
  'provider.inactive': 'Inactive',
  'provider.add': 'Add provider',
  'provider.edit': 'Edit provider',
  'provider.deactivate': 'Deactivate',
  'provider.activate': 'Activate',
  'provider.import': 'Import CSV',
  'provider.importFile': 'CSV file',
  'provider.importHint':
    'Columns: name, phone, location, specialties (separated by ; or |), optional active.',
  'provider.importRun': 'Import',
  'provider.importReport': '{total} rows: {created} created, {updated} updated, {refused} refused.',
  'provider.importRow': 'Row {row}',
  'provider.adminOnly': 'Only an admin can change providers.',
  'messages.title': 'Messages',
  'messages.to': 'Number',
  'messages.ticket': 'Ticket',
  'messages.kind': 'Kind',
  'messages.direction': 'Direction',
  'messages.outbound': 'Outbound',
  'messages.inbound': 'Inbound',
  'messages.error': 'Error',
  'messages.date': 'Date',
  'sandbox.title': 'Sandbox phone',
  'sandbox.intro':
    'Every number that received messages, as WhatsApp would show it. The buttons answer as the provider would.',
  'sandbox.numbers': 'Numbers',
  'sandbox.noNumbers': 'No message has been sent yet.',
  'sandbox.pick': 'Pick a number to see its conversation.',
  'sandbox.reply': 'Write a reply',
  'sandbox.send': 'Send',
  'sandbox.template': 'Template {name}',
  'sandbox.image': 'Image',
  'sandbox.document': 'Document',
  'sandbox.tapFailed': 'The button could not be tapped',
  'sandbox.back': 'Numbers',
  'error.invalid_phone_number': 'Invalid phone number.',
  'error.file_too_large': 'The file is too large.',
  'error.unsupported_media_type': 'File type not accepted (use JPEG or PNG).',
  'error.too_many_files': 'Too many files (at most 10).',
  'error.validation_error': 'Invalid value: {message}',
  'error.provider_phone_taken': 'Another provider already has this phone.',
  'error.forbidden': 'Your role may not do this.',
  'error.rate_limited': 'Too many requests; wait a moment.',
  'nav.users': 'Users',
  'users.title': 'Users',
  'users.email': 'Email',
  'users.password': 'Password (at least 10 characters)',
  'users.role': 'Role',
  'users.role.admin': 'Admin',
  'users.role.operator': 'Operator',
  'users.add': 'Add user',
  'users.created': 'User {email} created.',
};

export type Lang = 'es' | 'en';
const DICTIONARIES: Record<Lang, Record<MessageKey, string>> = { es, en };
const STORAGE_KEY = 'khk.lang';
const TIME_ZONE = 'America/Bogota';

export interface I18n {
  lang: Lang;
  setLang: (lang: Lang) => void;
  t: (key: MessageKey, values?: Record<string, string | number>) => string;
  /** `key` when it exists in the dictionary, else `fallback` (for server-side names such as event types). */
  tMaybe: (key: string, fallback: string) => string;
  formatDate: (iso: string) => string;
  /** A refusal from the API in the reader's language when its code is known, else the server's message. */
  errorText: (error: { code: string; message: string }) => string;
}

const I18nContext = createContext<I18n | null>(null);

function storedLang(): Lang {
  try {
    return window.localStorage.getItem(STORAGE_KEY) === 'en' ? 'en' : 'es';
  } catch {
    return 'es';
  }
}

export function I18nProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(storedLang);
  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    document.documentElement.lang = next;
    try {
      window.localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // Private mode: the choice lasts for this page only.
    }
  }, []);
  const value = useMemo<I18n>(() => {
    const dictionary = DICTIONARIES[lang];
    const dates = new Intl.DateTimeFormat(lang === 'es' ? 'es-CO' : 'en-US', {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: TIME_ZONE,
    });
    document.documentElement.lang = lang;
    return {
      lang,
      setLang,
      t: (key, values) => interpolate(dictionary[key], values),
      tMaybe: (key, fallback) => (key in dictionary ? dictionary[key as MessageKey] : fallback),
      errorText: (error) => {
        if (error.code === 'network_error') return dictionary['common.network'];
        const key = `error.${error.code}`;
        return key in dictionary
          ? interpolate(dictionary[key as MessageKey], { message: error.message })
          : error.message;
      },
      formatDate: (iso) => {
        const date = new Date(iso);
        return Number.isNaN(date.getTime()) ? iso : dates.format(date);
      },
    };
  }, [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (value === null) throw new Error('useI18n outside I18nProvider');
  return value;
}

function interpolate(text: string, values?: Record<string, string | number>): string {
  if (values === undefined) return text;
  return text.replace(/\{(\w+)\}/g, (match, name: string) => (name in values ? String(values[name]) : match));
}
