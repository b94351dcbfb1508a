/** The page: the audience topic's latest value through useTopic, and a button that unmounts it. */
import { useTopic } from "edgebeat/react";
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import type { AudienceValue } from "../src/jobs";

function Audience() {
  const topic = useTopic<AudienceValue>(new URL("/topics/audience", location.href).toString());
  const [seen, setSeen] = useState<number[]>([]);
  useEffect(() => {
    const seq = topic.latest?.seq;
    if (seq !== undefined) setSeen((prev) => (prev.includes(seq) ? prev : [...prev, seq]));
  }, [topic.latest]);
  return (
    <section data-state={topic.state} data-seq={topic.seq ?? ""}>
      <p>
        Connection: <b id="state">{topic.state}</b>
      </p>
      <p id="value">
        {topic.value === null ? "Waiting for the first run…" : `${topic.value.subscribers} watching at ${topic.value.minute} UTC`}
      </p>
      <p>
        Seqs received: <span id="seqs">{seen.join(",")}</span>
      </p>
    </section>
  );
}

function App() {
  const [shown, setShown] = useState(true);
  return (
    <main>
      <h1>hello-edgebeat</h1>
      {shown ? <Audience /> : <p id="unmounted">Unsubscribed.</p>}
      <button type="button" id="toggle" onClick={() => setShown((value) => !value)}>
        {shown ? "Unmount" : "Mount"}
      </button>
    </main>
  );
}

const root = document.getElementById("root");
if (root) createRoot(root).render(<App />);
