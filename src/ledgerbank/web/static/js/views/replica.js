// A small tile for the ledger page: how far behind the primary the read replica is
// (GET /replica); reports, analytics and LedgerGPT read from it.

import { get } from "../api.js";
import { count } from "../format.js";
import { clear, errorBox, h, loading } from "../ui.js";

const TITLES = {
  no_replica: "No replica: reports read the primary database.",
  streaming: "Streaming from the primary.",
  stopped: "The replica is not replicating.",
  not_a_replica: "The read database replicates from nothing.",
  unreachable: "The read replica cannot be reached.",
};

function behind(lag) {
  if (lag.seconds_behind == null) return "How far behind is unknown.";
  const seconds = `${lag.seconds_behind.toFixed(lag.seconds_behind < 10 ? 3 : 0)} s behind`;
  return lag.bytes_behind == null ? seconds : `${seconds}, ${count(lag.bytes_behind)} bytes of WAL to replay`;
}

export function replicaTile() {
  const tile = h("section", { class: "card stack", dataset: { testid: "replica" } }, h("h2", {}, "Read replica"), loading());
  get("/replica").then(
    (lag) => {
      const fine = lag.state === "no_replica" || lag.state === "streaming";
      clear(
        tile,
        h("h2", {}, "Read replica"),
        h(
          "div",
          { class: `alert ${fine ? "ok" : "error"}`, role: "status", dataset: { state: lag.state } },
          h("div", { class: "title" }, TITLES[lag.state] || lag.detail),
          lag.state === "streaming" || lag.state === "stopped" ? h("div", {}, behind(lag)) : null,
        ),
        lag.state === "no_replica" ? null : h("p", { class: "muted" }, `${lag.detail} (${lag.dialect}).`),
      );
    },
    (error) => clear(tile, h("h2", {}, "Read replica"), errorBox(error)),
  );
  return tile;
}
