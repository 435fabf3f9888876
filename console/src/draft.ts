import { useEffect, useState } from "react";

/**
 * A form's unsaved values, kept in sessionStorage under the screen and form: when a sign-in
 * expires mid-form (and the provider's redirect reloads the page), the person comes back to the
 * same screen with what they had typed. Cleared once the form is sent.
 */
export function useDraft<T extends Record<string, string>>(key: string, initial: T) {
  const storageKey = `makrcave-console-draft:${key}`;
  const [value, setValue] = useState<T>(() => {
    try {
      const saved = sessionStorage.getItem(storageKey);
      return saved ? { ...initial, ...(JSON.parse(saved) as T) } : initial;
    } catch {
      return initial;
    }
  });
  useEffect(() => {
    sessionStorage.setItem(storageKey, JSON.stringify(value));
  }, [storageKey, value]);
  const update = (field: keyof T, v: string) => setValue((prev) => ({ ...prev, [field]: v }));
  const clear = () => {
    sessionStorage.removeItem(storageKey);
    setValue(initial);
  };
  return [value, update, clear] as const;
}
