import { Anchor, type AnchorProps } from '@mantine/core';
import { createLink } from '@tanstack/react-router';
import { forwardRef, type AnchorHTMLAttributes } from 'react';

const MantineAnchor = forwardRef<HTMLAnchorElement, AnchorProps & AnchorHTMLAttributes<HTMLAnchorElement>>((props, ref) => <Anchor component="a" ref={ref} {...props} />);
MantineAnchor.displayName = 'MantineAnchor';

/** A Mantine anchor that is a router link: typed `to`, `params` and `search`. */
export const AnchorLink = createLink(MantineAnchor);
