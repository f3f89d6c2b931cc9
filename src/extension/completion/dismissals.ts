/**
 * Remembers suggestions the user saw and passed over, so the same text is not offered again at the
 * same place (same document, same text before the cursor). An explicit trigger shows it anyway.
 * No `vscode` import: unit-tested directly.
 */
const CAPACITY = 200;

export interface Place {
  uri: string;
  /** The text before the cursor on its line plus a hash-worthy slice of what precedes it. */
  prefix: string;
}

export class DismissalMemory {
  private readonly dismissed = new Set<string>();
  private shown: { place: Place; text: string } | undefined;

  /** A suggestion was shown at `place`. */
  didShow(place: Place, text: string): void {
    this.shown = { place, text };
  }

  /** The shown suggestion was accepted (fully or in part): it was wanted, so it is not dismissed. */
  didAccept(): void {
    this.shown = undefined;
  }

  /**
   * A new request came. If the previous suggestion was neither accepted, nor typed along (the user
   * typed its first characters), nor is asked for at the same place again, the user moved on from
   * it: it counts as dismissed. Returns true when that happened, so the caller can count it.
   */
  settlePrevious(place: Place): boolean {
    const shown = this.shown;
    if (!shown || placeKey(shown.place) === placeKey(place)) return false;
    this.shown = undefined;
    const typed = place.uri === shown.place.uri && place.prefix.startsWith(shown.place.prefix)
      ? place.prefix.slice(shown.place.prefix.length)
      : undefined;
    if (typed !== undefined && typed.length > 0 && shown.text.startsWith(typed)) return false;
    this.remember(keyOf(shown.place, shown.text));
    return true;
  }

  /** The user dismissed the shown suggestion explicitly (Escape). */
  dismissCurrent(): boolean {
    if (!this.shown) return false;
    this.remember(keyOf(this.shown.place, this.shown.text));
    this.shown = undefined;
    return true;
  }

  /** The suggestion on screen, if any: partial accepts are recognised against it. */
  get current(): { place: Place; text: string } | undefined {
    return this.shown;
  }

  wasDismissed(place: Place, text: string): boolean {
    return this.dismissed.has(keyOf(place, text));
  }

  private remember(key: string): void {
    this.dismissed.add(key);
    if (this.dismissed.size > CAPACITY) {
      const oldest = this.dismissed.values().next().value;
      if (oldest !== undefined) this.dismissed.delete(oldest);
    }
  }
}

function placeKey(place: Place): string {
  return `${place.uri}\u0000${place.prefix}`;
}

function keyOf(place: Place, text: string): string {
  return `${placeKey(place)}\u0000${text}`;
}
