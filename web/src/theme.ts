import { createTheme, darken, defaultVariantColorsResolver, luminance, parseThemeColor, type CSSVariablesResolver, type VariantColorsResolver } from '@mantine/core';

/**
 * Colours that pass WCAG AA (4.5:1) for small text, which Mantine's defaults (shade 6 under
 * white text, shade 6 text on tints) do not for every colour: axe checks every screen.
 * Filled: shade 8, with black or white text, whichever contrasts more. Light, subtle and
 * outline: the colour's shade 9, darkened, as text.
 */
const variantColorResolver: VariantColorsResolver = (input) => {
  const base = defaultVariantColorsResolver(input);
  const parsed = parseThemeColor({ color: input.color ?? input.theme.primaryColor, theme: input.theme });
  const palette = parsed.isThemeColor ? input.theme.colors[parsed.color] : undefined;
  if (palette === undefined) return base;
  if (input.variant === 'filled') {
    const background = palette[8];
    return { ...base, background, hover: palette[9], color: luminance(background) > 0.179 ? 'var(--mantine-color-black)' : 'var(--mantine-color-white)' };
  }
  if (input.variant === 'light' || input.variant === 'subtle' || input.variant === 'outline') {
    const text = darken(palette[9], 0.2);
    return { ...base, color: text, ...(input.variant === 'outline' ? { border: `1px solid ${text}` } : {}) };
  }
  return base;
};

export const theme = createTheme({
  primaryColor: 'indigo',
  primaryShade: 8,
  defaultRadius: 'md',
  fontFamily: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  variantColorResolver,
});

/** Dimmed text (descriptions, dates) dark enough for AA on white and light grey. File inputs carry no placeholder: Mantine draws it as text, too light. */
export const cssVariablesResolver: CSSVariablesResolver = () => ({
  variables: {},
  // A hovered active navigation link: the default tint leaves its text at 4.1:1.
  light: { '--mantine-color-dimmed': 'var(--mantine-color-gray-7)', '--mantine-primary-color-light-hover': 'var(--mantine-color-indigo-1)' },
  dark: {},
});
