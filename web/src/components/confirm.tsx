import { Button, Group, Modal, Stack, Text } from '@mantine/core';
import { useCallback, useRef, useState, type ReactNode } from 'react';

export interface ConfirmOptions {
  title: string;
  message: ReactNode;
  /** The button that goes ahead: says what it does ("Turn the portal off"). */
  confirmLabel: string;
  /** Red when it locks people out or throws work away. */
  danger?: boolean;
}

/**
 * Asks before something that locks people out or throws work away. `ask` resolves true when the
 * admin goes ahead; the element must be rendered once by the caller.
 */
export function useConfirm(): [ReactNode, (options: ConfirmOptions) => Promise<boolean>] {
  const [options, setOptions] = useState<ConfirmOptions | null>(null);
  const resolver = useRef<((ok: boolean) => void) | null>(null);
  const ask = useCallback((next: ConfirmOptions) => new Promise<boolean>((resolve) => {
    resolver.current = resolve;
    setOptions(next);
  }), []);
  const close = (ok: boolean) => {
    resolver.current?.(ok);
    resolver.current = null;
    setOptions(null);
  };
  const element = (
    <Modal opened={options !== null} onClose={() => close(false)} title={options?.title} centered>
      <Stack>
        {typeof options?.message === 'string' ? <Text size="sm">{options.message}</Text> : options?.message}
        <Group justify="flex-end">
          <Button variant="default" onClick={() => close(false)}>Cancel</Button>
          <Button color={options?.danger === true ? 'red' : undefined} onClick={() => close(true)} data-autofocus>{options?.confirmLabel}</Button>
        </Group>
      </Stack>
    </Modal>
  );
  return [element, ask];
}
