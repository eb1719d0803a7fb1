// Check email HTML against caniemail.com's data with doiuse-email: exit 1 when an email uses a
// feature one of the clients below does not support, unless ALLOWED says why that is harmless.
// Usage: node check.mjs <email.html>...
import { readFile } from "node:fs/promises";
import { doIUseEmail } from "doiuse-email";

// Outlook desktop (Word) and the Windows Mail app, Outlook on Mac and phones, Gmail everywhere,
// Apple Mail: the clients most of our customers read mail in.
const CLIENTS = ["outlook.*", "gmail.*", "apple-mail.*"];
// Feature → the clients where its lack is harmless, and why.
const ALLOWED = {
  "<body> element": {
    clients: ["outlook.ios", "outlook.android"],
    why: "the wrapper table repeats the body's background",
  },
  "border-radius": {
    clients: ["outlook.windows", "outlook.windows-mail"],
    why: "square corners on the card, fact boxes and buttons",
  },
  "display:none": {
    clients: ["gmail.mobile-webmail"],
    why: "the preheader is also 1 px, zero height and the background's colour",
  },
  opacity: {
    clients: ["outlook.windows", "outlook.windows-mail", "gmail.mobile-webmail"],
    why: "the preheader is also display:none and mso-hide:all",
  },
  overflow: {
    clients: ["outlook.windows", "outlook.windows-mail", "outlook.android"],
    why: "the preheader is also display:none (mso-hide:all in Outlook desktop)",
  },
  "role attribute": {
    clients: ["outlook.windows-mail"],
    why: "ignored: screen readers there read the layout tables as tables",
  },
  "white-space": {
    clients: ["outlook.windows", "outlook.windows-mail"],
    why: "a phone number or amount may wrap in the 600 px column; it rarely needs to",
  },
  "word-break": {
    clients: ["outlook.windows-mail"],
    why: "a desktop app's 600 px column: breaking long words matters on phones",
  },
};
const UNSUPPORTED = /^`(.+)` is not supported by `(.+)`$/;

let failed = false;
for (const path of process.argv.slice(2)) {
  const { errors } = doIUseEmail(await readFile(path, "utf8"), { emailClients: CLIENTS });
  const refused = [...new Set(errors)].filter((error) => {
    const [, feature, client] = UNSUPPORTED.exec(error) ?? [];
    return !ALLOWED[feature]?.clients.includes(client);
  });
  for (const error of refused) {
    console.error(`${path}: ${error}`);
  }
  failed ||= refused.length > 0;
}
if (process.argv.length < 3) {
  console.error("usage: node check.mjs <email.html>...");
  failed = true;
}
process.exit(failed ? 1 : 0);
