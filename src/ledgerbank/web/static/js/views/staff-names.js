// People's names for staff pages: who acted, who owns, who is assigned — never "user #13".

import { get } from "../api.js";

const known = new Map();

// Resolves the ids to names (one request for the unknown ones); answers a lookup function.
export async function namesOf(ids) {
  const wanted = [...new Set(ids.filter((id) => id !== null && id !== undefined))].filter((id) => !known.has(id)).slice(0, 200);
  if (wanted.length) {
    try {
      const { items } = await get("/staff/people", { ids: wanted });
      for (const person of items) known.set(person.id, person.name);
    } catch {
      /* names are a help, not a need: the page still shows what it can */
    }
  }
  return (id) => (id === null || id === undefined ? "the system" : known.get(id) || "a former user");
}

// "3 h" / "2.5 d": how long ago, short, for queue columns.
export function age(iso, now = Date.now()) {
  const hours = Math.max(0, (now - new Date(iso).getTime()) / 3_600_000);
  if (hours < 1) return `${Math.max(1, Math.round(hours * 60))} min`;
  if (hours < 48) return `${Math.round(hours)} h`;
  return `${(hours / 24).toFixed(hours < 240 ? 1 : 0)} d`;
}
