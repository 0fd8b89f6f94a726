// Registration and sign-in: the phone number, then the 6-digit code the brand sends by SMS. A new number is
// registered (POST /auth/register, UTM parameters of the address kept), a known one signed in again; either way
// the code verified (POST /auth/verify-otp) gives the borrower's tokens. The details follow in ./profile.js.
import { html, useState } from "/ui/vendor/preact-htm.js";
import { setSession } from "/ui/shared/api.js";
import { Alert, Field, Notice, call, useAction } from "../lib.js";

const UTM = ["utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"];

function utm() {
  const params = new URLSearchParams(location.search);
  const found = Object.fromEntries(UTM.filter((k) => params.get(k)).map((k) => [k, params.get(k)]));
  return Object.keys(found).length ? found : undefined;
}

export function SignIn({ brand, code, onSignedIn }) {
  const [phone, setPhone] = useState("");
  const [otp, setOtp] = useState("");
  const [sent, setSent] = useState(null);
  const [busy, error, run] = useAction();
  const brandRef = (brand && brand.id) || code;
  const number = phone.replace(/\D/g, "").slice(-10);

  const sendCode = (event) => {
    event.preventDefault();
    return run(async () => {
      const answer = await call("POST", "/api/v1/web/auth/register", { phoneNumber: number, brand: brandRef, utm: utm() }, { noRefresh: true });
      setSent(answer);
      setOtp("");
    });
  };
  const resend = () =>
    run(async () => setSent(await call("POST", "/api/v1/web/auth/resend-otp", { phoneNumber: number, brand: brandRef }, { noRefresh: true })));
  const verify = (event) => {
    event.preventDefault();
    return run(async () => {
      const answer = await call("POST", "/api/v1/web/auth/verify-otp", { phoneNumber: number, brand: brandRef, otp }, { noRefresh: true });
      setSession("customer", { ...answer, phone: number, brand: code });
      onSignedIn(answer);
    });
  };

  return html`<main class="app-main signin">
    <header class="welcome">
      <h1>${brand && !brand.missing ? brand.name : "Your loan"}</h1>
      <p class="muted">Sign in or register with your mobile number.</p>
    </header>
    ${brand && brand.missing && html`<p class="error" role="alert">The lender "${code}" is not known here. Check the link you opened.</p>`}
    <section class="card">
      ${!sent
        ? html`<form onSubmit=${sendCode}>
            <h2>Your mobile number</h2>
            <${Field} id="phone" label="Mobile number" type="tel" inputmode="numeric" autocomplete="tel-national"
              required pattern="[0-9+ ]{10,14}" value=${phone} onValue=${setPhone}
              hint="10 digits; we send a one-time code to it by SMS." />
            <${Alert} error=${error} />
            <p><button type="submit" class="wide" disabled=${busy || number.length !== 10}>Send code</button></p>
          </form>`
        : html`<form onSubmit=${verify}>
            <h2>Enter the code</h2>
            <${Notice}>We sent a 6-digit code to ${number}. It is valid for ${Math.round(sent.expiresInSeconds / 60)} minutes.<//>
            <${Field} id="otp" label="One-time code" inputmode="numeric" autocomplete="one-time-code" required
              pattern="[0-9]{6}" maxlength="6" value=${otp} onValue=${(v) => setOtp(v.replace(/\D/g, ""))} />
            <${Alert} error=${error} />
            <p><button type="submit" class="wide" disabled=${busy || otp.length !== 6}>Verify and continue</button></p>
            <p class="split">
              <button type="button" class="secondary" onClick=${resend} disabled=${busy}>Send the code again</button>
              <button type="button" class="secondary" onClick=${() => setSent(null)}>Change number</button>
            </p>
          </form>`}
    </section>
  </main>`;
}

export default SignIn;
