import { useEffect } from 'react';

/** The browser tab's title for the screen: "Tickets · Portico". */
export function usePageTitle(title: string | undefined): void {
  useEffect(() => {
    document.title = title === undefined || title === '' ? 'Portico' : `${title} · Portico`;
  }, [title]);
}
