import { useEffect, useState } from 'preact/hooks';

/**
 * A phone or a touch screen: no keyboard to press the hinted keys on. The same query
 * hides `.hint` in styles.css; text that names a key outside a `.hint` (a placeholder,
 * which CSS cannot change) asks it here.
 */
export const NO_KEYS_MEDIA = '(hover: none) and (pointer: coarse), (max-width: 600px)';

/** Whether the screen has no keys to press, following it as it changes (a window resized, a tablet's keyboard docked). */
export function useNoKeys(): boolean {
  const [noKeys, setNoKeys] = useState(() => matchMedia(NO_KEYS_MEDIA).matches);
  useEffect(() => {
    const media = matchMedia(NO_KEYS_MEDIA);
    const changed = () => setNoKeys(media.matches);
    media.addEventListener('change', changed);
    changed();
    return () => media.removeEventListener('change', changed);
  }, []);
  return noKeys;
}
