"""The browser test of qsm-web (issue 17): headless Chromium, driven by Selenium, goes through the whole
scenario against a real qsmd and qsm-web. Run by tools/browser-test, which starts both: BASE_URL is
qsm-web's address. Prints one line per step and 'N passed, 0 failed' at the end; exits 1 on a failure.
"""
import sys
import time

from selenium import webdriver
from selenium.common.exceptions import NoAlertPresentException, TimeoutException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

BASE = sys.argv[1].rstrip("/")
XSS = "<script>alert(1)</script><img src=x onerror=alert(2)>"
passed = 0


def step(name):
    global passed
    passed += 1
    print(f"browser-test: ok {passed}: {name}", flush=True)


def browser():
    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,1000"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    service = Service(executable_path="/usr/bin/chromedriver")
    driver = webdriver.Chrome(options=options, service=service)
    driver.implicitly_wait(2)
    return driver


def fill(driver, path, fields, button="button[type=submit]"):
    if path:
        driver.get(BASE + path)
    form = driver.find_element(By.CSS_SELECTOR, "main form")
    for name, value in fields.items():
        element = form.find_element(By.NAME, name)
        if element.get_attribute("type") == "radio":
            form.find_element(By.CSS_SELECTOR, f"input[name={name}][value={value}]").click()
        else:
            element.clear()
            element.send_keys(value)
    form.find_element(By.CSS_SELECTOR, button).click()
    # The click returns before the next page has loaded: wait until this form is gone.
    WebDriverWait(driver, 60).until(gone(form))


def gone(element):
    """A wait condition: the element left the document (the next page replaced it). Chromium reports that
    as a stale element or, mid-navigation, as an inspector error: both mean gone."""
    def check(_):
        try:
            element.is_enabled()
            return False
        except WebDriverException:
            return True
    return check


def click_and_wait(driver, css):
    """Clicks the button at css and waits for the page it leads to."""
    button = driver.find_element(By.CSS_SELECTOR, css)
    button.click()
    WebDriverWait(driver, 60).until(gone(button))


def page_text(driver):
    return driver.find_element(By.TAG_NAME, "body").text


def expect(condition, what):
    if not condition:
        raise AssertionError(what)


def no_alert(driver):
    try:
        driver.switch_to.alert
        return False
    except NoAlertPresentException:
        return True


def csp_violations(driver):
    return [entry["message"] for entry in driver.get_log("browser") if "Content Security Policy" in entry["message"]]


def sign_up(driver, user):
    fill(driver, "/register", {"username": user, "password": f"{user}-password-1", "confirm": f"{user}-password-1"})
    expect("Your account is ready" in page_text(driver), f"{user} registered: {driver.current_url}: {page_text(driver)}")
    fill(driver, None, {"username": user, "password": f"{user}-password-1"})
    expect(driver.current_url.endswith("/dashboard"), f"{user} lands on the dashboard, not {driver.current_url}")


def main():
    alice, bob, attacker = browser(), browser(), browser()
    try:
        sign_up(alice, "alice")
        sign_up(bob, "bob")
        for link in ("Encrypt Message", "Decrypt Message", "Inbox", "History", "Key exchange"):
            expect(alice.find_elements(By.PARTIAL_LINK_TEXT, link), f"the dashboard links {link}")
        step("two users register, log in and land on the dashboard with its links")

        fill(alice, "/keys", {"peer": "bob", "qubits": "60000", "noise": "0.01"})
        text = page_text(alice)
        expect("Key established with bob" in text and "Final key length" in text and "threshold 11%" in text, text)
        step("a BB84 exchange shows qubits, sifted, sample, QBER and bound, leak and final length")

        fill(alice, "/keys", {"peer": "bob", "qubits": "60000", "eavesdropper": "1"})
        expect("possible eavesdropper" in page_text(alice), "the eavesdropped exchange aborts")
        step("an eavesdropped exchange aborts and says possible eavesdropper")

        for mode in ("otp", "aes", "pqc"):
            fill(alice, "/send", {"to": "bob", "body": f"hello bob in {mode}", "mode": mode})
            expect(f"Encrypted with {mode} and sent to bob" in page_text(alice), f"sent in {mode}")
        fill(alice, "/send", {"to": "bob", "body": XSS, "mode": "aes"})
        step("a message in each mode is sent, and the XSS body")

        bob.get(BASE + "/inbox")
        links = [a.get_attribute("href") for a in bob.find_elements(By.CSS_SELECTOR, "table.inbox a")]
        expect(len(links) == 4 and "4 unread" in page_text(bob), page_text(bob))
        step("the inbox lists four unread messages")

        bodies = []
        for link in links:
            bob.get(link)
            click_and_wait(bob, "main form button")
            bodies.append(bob.find_element(By.CSS_SELECTOR, "pre.plaintext").text)
            expect(no_alert(bob), "no script ran")
        for mode in ("otp", "aes", "pqc"):
            expect(f"hello bob in {mode}" in bodies, f"{mode} decrypts: {bodies}")
        expect(XSS in bodies, f"the XSS body shows as text: {bodies}")
        expect(not bob.find_elements(By.CSS_SELECTOR, "pre.plaintext img, pre.plaintext script"), "no element from the body")
        step("each message decrypts; the XSS body shows as its text and runs nothing")

        bob.get(BASE + "/history")
        expect("alice" in page_text(bob), "history names alice")
        alice.get(BASE + "/history")
        expect("bob" in page_text(alice), "alice's history names bob")
        step("history shows the exchange on both sides")

        bob.get(BASE + "/dashboard")
        expect("brute_force" not in page_text(bob), "no alert yet")
        for _ in range(5):
            fill(attacker, "/login", {"username": "bob", "password": "not-bobs-password"})
        expect("locked" in page_text(attacker) or "Wrong username or password" in page_text(attacker), page_text(attacker))
        # The open dashboard updates by itself (Server-Sent Events), without a reload.
        try:
            WebDriverWait(bob, 15).until(expected_conditions.text_to_be_present_in_element((By.ID, "live"), "brute_force"))
        except TimeoutException:
            raise AssertionError("the dashboard did not show the brute-force alert live")
        bob.refresh()
        expect("brute_force" in page_text(bob), "the alert stays after a reload")
        step("five wrong passwords raise a brute-force alert that bob's open dashboard shows live")

        alice.get(BASE + "/send")
        alice.execute_script("document.querySelector('main form input[name=csrf]').remove()")
        fill(alice, None, {"to": "bob", "body": "forged", "mode": "aes"})
        expect("Refused" in page_text(alice) and "expired or did not come from this site" in page_text(alice), page_text(alice))
        bob.get(BASE + "/inbox")
        expect(len(bob.find_elements(By.CSS_SELECTOR, "table.inbox a")) == 4, "nothing was sent")
        step("a POST without its CSRF token is refused and sends nothing")

        for driver in (alice, bob):
            violations = csp_violations(driver)
            expect(not violations, f"CSP violations: {violations}")
        step("no page broke its own Content-Security-Policy")

        click_and_wait(alice, "nav form button")
        alice.get(BASE + "/inbox")
        expect(alice.current_url.endswith("/login"), "after logout the inbox asks for a login")
        step("logout ends the session")
    except AssertionError as failure:
        print(f"browser-test: FAILED: {failure}", flush=True)
        print(f"{passed} passed, 1 failed")
        return 1
    finally:
        for driver in (alice, bob, attacker):
            driver.quit()
    print(f"{passed} passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
