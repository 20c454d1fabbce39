import { useI18n } from '../i18n';

export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <button
      type="button"
      className="button button-ghost"
      title={t('lang.switchLabel')}
      lang={lang === 'es' ? 'en' : 'es'}
      data-testid="language-switch"
      onClick={() => setLang(lang === 'es' ? 'en' : 'es')}
    >
      {t('lang.switch')}
    </button>
  );
}
