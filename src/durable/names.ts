/** Every edgebeat object is addressed by name (`getByName`), never by a random id: its name says what it owns. */

/** The object's name; throws naming `how` to address it when it was made from an id. */
export function objectName(ctx: DurableObjectState, how: string): string {
  const name = ctx.id.name;
  if (name === undefined) throw new Error(`This object is addressed by name: use ${how}, not an id.`);
  return name;
}
