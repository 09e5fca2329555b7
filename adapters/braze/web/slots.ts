/// <reference lib="dom" />
import {
  ARM_ATTRIBUTE,
  DECISION_ATTRIBUTE,
  RENDER_EVENT,
  SHOWN_ARM_ATTRIBUTE,
  SLOT_ATTRIBUTE,
  STATE_ATTRIBUTE,
} from './constants.ts';

/** How a slot ended up: the arm's approved template, the arm's approved text, or the page's default content. */
export type SlotContent = 'template' | 'text' | 'default';

export interface SlotRender {
  dimension: string;
  content: SlotContent;
  arm?: string;
}

/** Detail of the `nextbest:render` event dispatched on each slot. */
export interface RenderEventDetail extends SlotRender {
  decisionId?: string;
}

/** The slots under `root`, each with the dimension it shows. */
export function findSlots(root: ParentNode): { element: HTMLElement; dimension: string }[] {
  const out: { element: HTMLElement; dimension: string }[] = [];
  for (const element of Array.from(root.querySelectorAll<HTMLElement>(`[${SLOT_ATTRIBUTE}]`))) {
    const dimension = element.getAttribute(SLOT_ATTRIBUTE)?.trim();
    if (dimension) out.push({ element, dimension });
  }
  return out;
}

/** Marks slots as waiting for a decision (unless they already show one), so CSS may hide them meanwhile. */
export function markPending(slots: readonly { element: HTMLElement }[]): void {
  for (const { element } of slots)
    if (!element.hasAttribute(STATE_ATTRIBUTE)) element.setAttribute(STATE_ATTRIBUTE, 'pending');
}

/** The approved markup for `arm` inside the slot, if the marketer wrote one. */
function templateFor(slot: HTMLElement, arm: string): HTMLTemplateElement | undefined {
  for (const child of Array.from(slot.children)) {
    if (child instanceof HTMLTemplateElement && child.getAttribute(ARM_ATTRIBUTE) === arm) return child;
  }
  return undefined;
}

/** Replaces everything in the slot except its templates (which stay for later renders). */
function replaceContent(slot: HTMLElement, content: Node): void {
  for (const node of Array.from(slot.childNodes)) {
    if (!(node instanceof HTMLTemplateElement)) node.remove();
  }
  slot.append(content);
}

/**
 * Shows `arm` in the slot: a clone of its `<template data-arm>` when there is one, otherwise
 * `text` as plain text (never parsed as HTML). Without either, the slot keeps the page's default
 * content and the answer is `default` — the visitor did not see the arm, so no exposure is due.
 * A slot that already shows this decision's arm is left alone (a second render call).
 */
export function showArm(
  slot: HTMLElement,
  dimension: string,
  arm: string,
  decisionId: string,
  text: string | undefined,
): SlotRender {
  if (slot.getAttribute(DECISION_ATTRIBUTE) === decisionId && slot.getAttribute(SHOWN_ARM_ATTRIBUTE) === arm) {
    return { dimension, arm, content: templateFor(slot, arm) ? 'template' : 'text' };
  }
  const template = templateFor(slot, arm);
  let content: SlotContent;
  if (template) {
    replaceContent(slot, template.content.cloneNode(true));
    content = 'template';
  } else if (text !== undefined && text !== '') {
    replaceContent(slot, slot.ownerDocument.createTextNode(text));
    content = 'text';
  } else {
    return showDefault(slot, dimension);
  }
  slot.setAttribute(SHOWN_ARM_ATTRIBUTE, arm);
  slot.setAttribute(DECISION_ATTRIBUTE, decisionId);
  slot.setAttribute(STATE_ATTRIBUTE, 'decided');
  announce(slot, { dimension, arm, content, decisionId });
  return { dimension, arm, content };
}

/** Leaves the page's default content in place and says so. */
export function showDefault(slot: HTMLElement, dimension: string): SlotRender {
  if (slot.getAttribute(STATE_ATTRIBUTE) === 'decided') {
    // An earlier render already showed a decision; a later failure does not take it back.
    const arm = slot.getAttribute(SHOWN_ARM_ATTRIBUTE) ?? undefined;
    return { dimension, arm, content: arm !== undefined && templateFor(slot, arm) ? 'template' : 'text' };
  }
  slot.setAttribute(STATE_ATTRIBUTE, 'default');
  announce(slot, { dimension, content: 'default' });
  return { dimension, content: 'default' };
}

function announce(slot: HTMLElement, detail: RenderEventDetail): void {
  slot.dispatchEvent(new CustomEvent<RenderEventDetail>(RENDER_EVENT, { bubbles: true, detail }));
}
