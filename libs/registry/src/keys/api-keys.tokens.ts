export const API_KEY_SETTINGS = Symbol('API_KEY_SETTINGS');

export interface ApiKeySettings {
  /** What every key's secret is hashed with (HUB_API_KEY_PEPPER or the state dir's api-key-pepper). */
  pepper: string;
}
