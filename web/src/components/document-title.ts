import { useEffect } from 'react';

/** The browser tab's title while a screen is shown: "Tickets · Portico". */
export function useDocumentTitle(title: string): void {
  useEffect(() => {
    const before = document.title;
    document.title = `${title} · Portico`;
    return () => {
      document.title = before;
    };
  }, [title]);
}
