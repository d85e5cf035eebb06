/*
 * app.js — the openrx clinician page. Builds the POST /v1/recommend request from a pasted or
 * uploaded patient (FHIR R4 Bundle or openrx patient JSON) or from the short form, and renders the
 * answer: draft prescription with citations (click → the evidence text), the options table (the
 * drugs whose label states the indication: quoted sentence, the label's dose for this patient,
 * findings by tier), safety findings by tier, evidence list, "copy as FHIR". No external resources; all text goes in through textContent.
 *
 * Automation (used by the headless-browser test): a URL fragment
 *   #autorun=<base64url of {"patient": {...} or "form": {...}, "indication": "..."}>[&cite=N]
 * fills the form and submits it once; <body data-state> becomes "done" or "error" afterwards;
 * with cite=N the N-th citation button of the result is then clicked (its dialog opens).
 */
(function () {
  "use strict";

  var TIERS = ["contraindicated", "major", "moderate", "minor", "info"];
  var $ = function (id) { return document.getElementById(id); };
  var lastResult = null;
  var afterRender = null; /* automation: run once after the next result is shown */

  /* ---------------------------------------------------------------- small DOM helpers */
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) {
      if (k === "text") e.textContent = attrs[k];
      else if (k === "class") e.className = attrs[k];
      else e.setAttribute(k, attrs[k]);
    });
    (children || []).forEach(function (c) {
      if (c == null) return;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function setState(s) { document.body.setAttribute("data-state", s); }

  /* ---------------------------------------------------------------- tabs */
  function selectTab(id) {
    ["tab-paste", "tab-form"].forEach(function (t) {
      var b = $(t), on = t === id;
      b.setAttribute("aria-selected", on ? "true" : "false");
      $(b.getAttribute("data-panel")).hidden = !on;
    });
  }
  $("tab-paste").addEventListener("click", function () { selectTab("tab-paste"); });
  $("tab-form").addEventListener("click", function () { selectTab("tab-form"); });

  /* ---------------------------------------------------------------- patient input */
  $("patient-file").addEventListener("change", function (ev) {
    var f = ev.target.files && ev.target.files[0];
    if (!f) return;
    if (f.size > 16 * 1024 * 1024) { showError("The file is larger than 16 MiB; openrx refuses such patients."); return; }
    var r = new FileReader();
    r.onload = function () { $("patient-json").value = r.result; summarise(); };
    r.onerror = function () { showError("Cannot read " + f.name); };
    r.readAsText(f);
  });
  $("patient-json").addEventListener("input", summarise);

  function summarise() {
    var s = $("patient-summary"), txt = $("patient-json").value.trim();
    if (!txt) { s.textContent = ""; return; }
    try {
      var p = JSON.parse(txt);
      if (p.resourceType === "Bundle") {
        var counts = {};
        (p.entry || []).forEach(function (e) {
          var t = e && e.resource && e.resource.resourceType;
          if (t) counts[t] = (counts[t] || 0) + 1;
        });
        s.textContent = "FHIR Bundle: " + Object.keys(counts).map(function (k) { return counts[k] + " " + k; }).join(", ");
      } else if (p.openrx_patient) {
        s.textContent = "openrx patient" + (p.id ? " " + p.id : "") + ": " + (p.medications || []).length +
          " medicines, " + (p.allergies || []).length + " allergies, " + (p.labs || []).length + " labs";
      } else {
        s.textContent = "JSON, but neither a FHIR Bundle nor an openrx patient (\"openrx_patient\": 1).";
      }
    } catch (e) {
      s.textContent = "Not valid JSON yet: " + e.message;
    }
  }

  function isoDate(d) { return d.toISOString().slice(0, 10); }

  /* The short form → the openrx patient JSON form (examples/patients/README.md). */
  function formPatient() {
    var today = new Date(), p = {openrx_patient: 1, id: "form-patient"}, labs = [], v;
    var age = $("f-age").value;
    if (age !== "") {
      var n = Number(age);
      if (!(n >= 0 && n <= 120)) throw new Error("Age must be 0–120 years.");
      /* birth date exactly n years before today, so the computed age is n */
      var b = new Date(Date.UTC(today.getUTCFullYear() - Math.floor(n), today.getUTCMonth(), today.getUTCDate()));
      p.birthDate = isoDate(b);
    }
    if ($("f-sex").value) p.sex = $("f-sex").value;
    if ($("f-pregnant").value) p.pregnant = $("f-pregnant").value;
    var day = isoDate(today);
    if ((v = $("f-weight").value) !== "") labs.push({kind: "weight", value: Number(v), unit: "kg", date: day});
    if ((v = $("f-height").value) !== "") labs.push({kind: "height", value: Number(v), unit: "cm", date: day});
    if ((v = $("f-scr").value) !== "") labs.push({kind: "scr", value: Number(v), unit: $("f-scr-unit").value, date: day});
    if (labs.length) p.labs = labs;
    var lines = function (id) {
      return $(id).value.split("\n").map(function (s) { return s.trim(); }).filter(Boolean);
    };
    p.medications = lines("f-meds").map(function (t) { return {text: t}; });
    p.allergies = lines("f-allergies").map(function (t) { return {text: t, category: "medication"}; });
    return p;
  }

  function buildRequest() {
    var patient;
    if ($("tab-form").getAttribute("aria-selected") === "true") {
      patient = formPatient();
    } else {
      var txt = $("patient-json").value.trim();
      if (!txt) throw new Error("Paste or upload a patient (FHIR Bundle or openrx JSON), or use the short form.");
      try { patient = JSON.parse(txt); } catch (e) { throw new Error("The patient is not valid JSON: " + e.message); }
    }
    var ind = $("indication").value.trim();
    if (!ind) throw new Error("Enter the indication (what to treat).");
    var k = parseInt($("opt-k").value, 10);
    return {patient: patient, indication: ind, rag: $("opt-rag").checked, k: k >= 1 && k <= 20 ? k : 6, include_fhir: true};
  }

  /* ---------------------------------------------------------------- request */
  function showError(msg) {
    var e = $("error");
    e.textContent = msg;
    e.hidden = false;
    setState("error");
  }

  function submit(ev) {
    if (ev) ev.preventDefault();
    $("error").hidden = true;
    var req;
    try { req = buildRequest(); } catch (e) { showError(e.message); return; }
    var headers = {"Content-Type": "application/json"};
    var key = $("opt-key").value.trim();
    if (key) headers.Authorization = "Bearer " + key;
    $("submit").disabled = true;
    $("busy").hidden = false;
    setState("busy");
    fetch("v1/recommend", {method: "POST", headers: headers, body: JSON.stringify(req)})
      .then(function (r) {
        return r.text().then(function (t) {
          var j = null;
          try { j = JSON.parse(t); } catch (e) { /* not JSON */ }
          if (!r.ok) {
            var m = j && j.error && j.error.message ? j.error.message : t.slice(0, 500);
            throw new Error("HTTP " + r.status + ": " + m);
          }
          if (!j) throw new Error("The server's answer is not JSON.");
          return j;
        });
      })
      .then(function (j) { render(j); setState("done"); if (afterRender) { afterRender(); afterRender = null; } })
      .catch(function (e) { showError(e.message || String(e)); })
      .then(function () { $("submit").disabled = false; $("busy").hidden = true; });
  }
  $("rx-form").addEventListener("submit", submit);

  /* ---------------------------------------------------------------- rendering */
  /* "; label version 5, effective 2023-06-01" for an evidence entry ("" when unknown) */
  function labelVersion(e) {
    var v = e.version ? "; label version " + e.version : "";
    return v + (e.effective_date ? ", effective " + e.effective_date : "");
  }

  function evidenceById(r, id) {
    var ev = r.evidence || [];
    for (var i = 0; i < ev.length; i++) if (ev[i].id === id) return ev[i];
    return null;
  }

  function openQuote(title, cite, text) {
    $("quote-title").textContent = title;
    $("quote-cite").textContent = cite || "";
    $("quote-text").textContent = text || "(no text)";
    var d = $("quote-dialog");
    if (typeof d.showModal === "function") { if (!d.open) d.showModal(); } else d.setAttribute("open", "");
  }

  /* cls: "cite" (the draft's and the findings' citations: the automation's cite=N counts these)
   * or "opt-cite" (the options table) */
  function citeButton(r, id, fallbackCitation, cls) {
    var b = el("button", {type: "button", class: cls || "cite", text: id, title: fallbackCitation || id});
    b.addEventListener("click", function () {
      var e = evidenceById(r, id);
      if (e) {
        openQuote("[" + id + "] " + e.title + " — " + e.section, e.citation + labelVersion(e), e.text);
        var li = document.getElementById("ev-" + id);
        if (li) { li.classList.add("hl"); setTimeout(function () { li.classList.remove("hl"); }, 2500); }
      } else {
        openQuote(id, fallbackCitation, "This evidence id is not among the retrieved sections.");
      }
    });
    return b;
  }

  function renderDraft(r) {
    var box = $("draft");
    clear(box);
    if (r.mode === "evidence") {
      box.appendChild(el("p", {class: "hint", text: "Evidence mode: no model is loaded, so no prescription is drafted. " +
        "Below are the options (the drugs whose label states the indication, screened for this patient), the " +
        "safety findings on the current medicines and the label evidence retrieved for the indication."}));
      return;
    }
    box.appendChild(el("h3", {text: "Draft prescription"}));
    if (r.schema_valid === false) {
      box.appendChild(el("div", {class: "error", text: "The model's answer did not match the output schema: " + (r.schema_error || "")}));
      return;
    }
    if (r.no_suitable_option) box.appendChild(el("p", {class: "notice", text: "The model answers: no suitable option among the label-indicated drugs."}));
    if (r.insufficient_evidence) box.appendChild(el("p", {class: "notice", text: "The model says the evidence is insufficient for a recommendation."}));
    var cands = r.candidates || [];
    if (cands.length) {
      var t = el("table", {class: "draft"}), head = el("tr");
      ["Drug", "Dose", "Route", "Frequency", "Duration", "Adjustments", "Monitoring", "Citations"].forEach(function (h) { head.appendChild(el("th", {text: h})); });
      t.appendChild(head);
      cands.forEach(function (c) {
        var tr = el("tr");
        tr.appendChild(el("td", {text: c.ingredient + (c.rxcui ? " (RxCUI " + c.rxcui + ")" : "") +
          (c.label_indicated === false ? " — NOT LABEL-INDICATED" : "")}));
        tr.appendChild(el("td", {text: (c.dose_amount != null ? c.dose_amount : "") + " " + (c.dose_unit || "")}));
        tr.appendChild(el("td", {text: c.route || ""}));
        tr.appendChild(el("td", {text: c.frequency || ""}));
        tr.appendChild(el("td", {text: c.duration || ""}));
        tr.appendChild(el("td", {text: c.adjustments || ""}));
        tr.appendChild(el("td", {text: c.monitoring || ""}));
        var td = el("td");
        (c.citations || []).forEach(function (ci) { td.appendChild(citeButton(r, ci.id, ci.citation)); });
        if (!(c.citations || []).length) td.appendChild(el("span", {class: "hint", text: "none — unsupported claim"}));
        tr.appendChild(td);
        t.appendChild(tr);
      });
      box.appendChild(t);
    } else {
      box.appendChild(el("p", {class: "hint", text: "No drug proposed."}));
    }
    if (r.rationale) box.appendChild(el("p", null, [el("strong", {text: "Rationale: "}), r.rationale]));
    if ((r.alternatives || []).length) box.appendChild(el("p", null, [el("strong", {text: "Alternatives named: "}), r.alternatives.join(", ")]));
    if (r.confidence) box.appendChild(el("p", {class: "hint", text: "Model confidence: " + r.confidence + (r.asks > 1 ? " (re-asked once after a safety finding)" : "")}));
  }

  function findingNode(f) {
    var sev = TIERS.indexOf(f.severity) >= 0 ? f.severity : "info";
    var d = el("div", {class: "finding sev-" + sev, "data-severity": sev});
    d.appendChild(el("div", {class: "head"}, [el("span", {class: "tier", text: sev}),
      (f.interruptive ? "(interruptive) " : "") + f.kind + ": " + f.drugs]));
    d.appendChild(el("p", {text: f.message}));
    if (f.trigger) d.appendChild(el("p", {class: "hint", text: "Patient fact: " + f.trigger}));
    if (f.management) d.appendChild(el("p", null, [el("strong", {text: "Management (from the source): "}), f.management]));
    if (f.source || f.citation) {
      var p = el("p", {class: "hint"}, ["Source: " + (f.source || "") + " "]);
      var b = el("button", {type: "button", class: "cite", text: f.citation ? "cite" : "source", title: f.citation || ""});
      b.addEventListener("click", function () {
        openQuote(f.kind + ": " + f.drugs, (f.source ? f.source + " — " : "") + (f.citation || ""),
                  f.quote || "(the source gives no quotable sentence for this finding)");
      });
      p.appendChild(b);
      d.appendChild(p);
    }
    return d;
  }

  function renderFindingGroup(box, title, list) {
    box.appendChild(el("h4", {text: title + " (" + list.length + ")"}));
    if (!list.length) { box.appendChild(el("p", {class: "hint", text: "No findings."})); return; }
    var sorted = list.slice().sort(function (a, b) { return TIERS.indexOf(a.severity) - TIERS.indexOf(b.severity); });
    sorted.forEach(function (f) { box.appendChild(findingNode(f)); });
  }

  function renderFindings(r) {
    var box = $("findings"), counts = $("tier-counts"), all = [];
    clear(box);
    clear(counts);
    if (r.mode !== "evidence") { renderFindingGroup(box, "On the draft", r.findings || []); all = all.concat(r.findings || []); }
    renderFindingGroup(box, "On the current medicines", r.current_findings || []);
    all = all.concat(r.current_findings || []);
    TIERS.forEach(function (t) {
      var n = all.filter(function (f) { return f.severity === t; }).length;
      counts.appendChild(el("span", {class: "tier-chip chip-" + t, text: t + ": " + n}));
    });
  }

  /* the options: one row per drug offered as the choice, then the contraindicated ones */
  function tierText(t) {
    var parts = TIERS.filter(function (k) { return t && t[k]; }).map(function (k) { return k + " " + t[k]; });
    return parts.length ? parts.join(", ") : "none";
  }
  function worstTier(t) {
    for (var i = 0; i < TIERS.length; i++) if (t && t[TIERS[i]]) return TIERS[i];
    return "none";
  }
  function quoteCell(r, text, evId, citation) {
    var td = el("td", null, [el("q", {text: text || ""})]);
    if (evId) td.appendChild(citeButton(r, evId, citation, "opt-cite"));
    else td.appendChild(el("span", {class: "hint", text: " (" + citation + ")"}));
    return td;
  }
  function renderOptions(r) {
    var box = $("options");
    clear(box);
    var o = r.options;
    if (!o) { box.appendChild(el("p", {class: "hint", text: "No knowledge base: no options."})); return; }
    var rows = (o.options || []).filter(function (x) { return x.in_choice; });
    if (!rows.length) box.appendChild(el("p", {class: "notice", text: o.note || "No label-indicated option."}));
    if (rows.length) {
      var t = el("table", {class: "options", id: "options-table"}), head = el("tr");
      ["#", "Drug", "Indication (label sentence)", "Label dose for this patient", "Findings by tier"].forEach(function (h) { head.appendChild(el("th", {text: h})); });
      t.appendChild(head);
      rows.forEach(function (x, i) {
        var tr = el("tr", {"data-drug": x.drug});
        tr.appendChild(el("td", {text: String(i + 1)}));
        var flags = [];
        if (x.match && x.match.partial) flags.push("partial match");
        if (x.match && x.match.narrower) flags.push("label names a narrower condition");
        if (!x.full_label_in_kb) flags.push("indication text only");
        tr.appendChild(el("td", null, [el("strong", {text: x.drug}), flags.length ? el("div", {class: "hint", text: flags.join("; ")}) : null]));
        tr.appendChild(quoteCell(r, x.indication.sentence, x.indication.evidence_id, x.indication.citation));
        if (x.label_dose) tr.appendChild(quoteCell(r, x.label_dose.text, x.label_dose.evidence_id, x.label_dose.citation));
        else tr.appendChild(el("td", {class: "hint", text: x.full_label_in_kb ? "not in the evidence" : "no dosing section in the knowledge base"}));
        tr.appendChild(el("td", {class: "tier-" + worstTier(x.findings_by_tier), text: tierText(x.findings_by_tier)}));
        t.appendChild(tr);
      });
      box.appendChild(t);
    }
    var out = (o.options || []).filter(function (x) { return x.excluded; });
    if (out.length) {
      box.appendChild(el("p", null, [el("strong", {text: "Left out (contraindicated for this patient): "})]));
      var ul = el("ul", {id: "options-excluded"});
      out.forEach(function (x) { ul.appendChild(el("li", {text: x.drug + " — " + (x.excluded_reason || "")})); });
      box.appendChild(ul);
    }
    var rest = (o.options || []).length - rows.length - out.length;
    if (rest > 0) box.appendChild(el("p", {class: "hint", text: rest + " more label-indicated option(s) beyond the choice."}));
  }

  function renderEvidence(r) {
    var ol = $("evidence");
    clear(ol);
    (r.evidence || []).forEach(function (e) {
      var li = el("li", {id: "ev-" + e.id});
      var det = el("details");
      var title = e.title && e.title.length > 110 ? e.title.slice(0, 107) + "…" : (e.title || "");
      det.appendChild(el("summary", {title: e.title || ""}, [el("strong", {text: "[" + e.id + "] "}), title + " — " + e.section + " ",
        el("span", {class: "hint", text: "(" + e.citation + labelVersion(e) + ")"})]));
      det.appendChild(el("div", {class: "text", text: e.text || ""}));
      li.appendChild(det);
      ol.appendChild(li);
    });
    if (!(r.evidence || []).length) ol.appendChild(el("li", {class: "hint", text: "No evidence retrieved (no knowledge base loaded, or no match)."}));
  }

  function render(r) {
    lastResult = r;
    $("welcome").hidden = true;
    $("result").hidden = false;
    $("result-title").textContent = (r.mode === "evidence" ? "Evidence and safety check" : "Draft prescription") +
      " — " + (r.indication || "");
    $("result-notice").textContent = r.notice || "";
    /* a remote model: the patient summary left this machine (de-identified, with consent) */
    var pv = r.privacy || {}, remote = $("result-remote");
    remote.hidden = !(pv.remote || pv.deidentified);
    remote.textContent = pv.remote
      ? "Remote model in use (" + (pv.host || "?") + "): the patient summary was sent off this machine, " +
        "de-identified by the HIPAA Safe Harbor rules (" + (pv.redactions || 0) + " redaction(s)); " +
        "the request's SHA-256 is in the audit log."
      : pv.deidentified ? "The patient summary sent to the model at " + (pv.host || "?") + " was de-identified." : "";
    var meta = "Patient " + (r.patient || "?") + " · mode " + r.mode + (r.model ? " · model " + r.model + (pv.remote ? " (remote)" : "") : "");
    if (r.timing) meta += " · " + Math.round((r.timing.total_s || 0) * 1000) + " ms";
    $("result-meta").textContent = meta;
    $("copy-status").textContent = "";
    renderDraft(r);
    renderOptions(r);
    renderFindings(r);
    renderEvidence(r);
    $("fhir-text").textContent = r.fhir ? JSON.stringify(r.fhir, null, 2) : "(not in this answer)";
  }

  /* ---------------------------------------------------------------- FHIR export */
  function fhirText() {
    if (!lastResult || !lastResult.fhir) return null;
    return JSON.stringify(lastResult.fhir, null, 2);
  }
  $("copy-fhir").addEventListener("click", function () {
    var t = fhirText(), s = $("copy-status");
    if (!t) { s.textContent = "No FHIR in this answer."; return; }
    var fallback = function () {
      var ta = el("textarea");
      ta.value = t;
      document.body.appendChild(ta);
      ta.select();
      var ok = false;
      try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
      document.body.removeChild(ta);
      s.textContent = ok ? "FHIR Bundle copied." : "Copy failed; use Download FHIR.";
    };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(t).then(function () { s.textContent = "FHIR Bundle copied."; }, fallback);
    } else fallback();
  });
  $("download-fhir").addEventListener("click", function () {
    var t = fhirText();
    if (!t) { $("copy-status").textContent = "No FHIR in this answer."; return; }
    var a = el("a", {href: URL.createObjectURL(new Blob([t], {type: "application/fhir+json"})), download: "openrx-draft.fhir.json"});
    document.body.appendChild(a);
    a.click();
    document.body.removeChild(a);
  });

  /* ---------------------------------------------------------------- automation hook */
  function autorun() {
    var m = /[#&]autorun=([A-Za-z0-9_\-]+={0,2})/.exec(location.hash);
    if (!m) return;
    try {
      var b64 = m[1].replace(/-/g, "+").replace(/_/g, "/");
      var bin = atob(b64), bytes = new Uint8Array(bin.length);
      for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      var req = JSON.parse(new TextDecoder("utf-8").decode(bytes));
      $("indication").value = req.indication || "";
      if (req.form) { /* fill the short form instead: {age, sex, weight, height, scr, scr_unit, pregnant, meds[], allergies[]} */
        var f = req.form, set = function (id, v) { if (v != null) $(id).value = v; };
        set("f-age", f.age); set("f-sex", f.sex); set("f-weight", f.weight); set("f-height", f.height);
        set("f-scr", f.scr); set("f-scr-unit", f.scr_unit); set("f-pregnant", f.pregnant);
        set("f-meds", (f.meds || []).join("\n")); set("f-allergies", (f.allergies || []).join("\n"));
        selectTab("tab-form");
      } else {
        $("patient-json").value = JSON.stringify(req.patient, null, 1);
        summarise();
        selectTab("tab-paste");
      }
      var c = /[#&]cite=(\d+)/.exec(location.hash); /* also click the N-th citation button */
      if (c) afterRender = function () {
        var btns = document.querySelectorAll("#result .cite");
        if (btns[+c[1]]) btns[+c[1]].click();
      };
      history.replaceState(null, "", location.pathname + location.search); /* drop the data from the URL */
      submit(null);
    } catch (e) {
      showError("autorun: cannot decode the request in the URL fragment: " + e.message);
    }
  }
  autorun();
})();
