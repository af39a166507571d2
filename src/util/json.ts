/**
 * Reads a JSON text column the app itself wrote (filters, permissions, custom values, branding,
 * options). A damaged value reads as empty rather than failing the request with a 500.
 */
export function readJsonArray<T>(text: string | null): T[] {
  if (text === null) return [];
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? (parsed as T[]) : [];
  } catch {
    return [];
  }
}

export function readJsonObject<T extends object>(text: string | null): Partial<T> {
  if (text === null) return {};
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}
