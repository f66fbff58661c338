"""The admin page in a real headless browser: an administrator signs in, finds a user,
suspends them and sees the audit row; a non-administrator and a wrong password are refused."""

from __future__ import annotations

import asyncio
import uuid

from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from dreamlust.app import create_app
from dreamlust.config import Settings
from dreamlust.models import AuditLogEntry
from dreamlust.models.enums import UserRole, UserStatus
from dreamlust.runtime import Runtime
from tests.fixtures.accounts import make_account, reload
from tests.fixtures.browser import PAGE_SECONDS, headless_chromium
from tests.fixtures.factories import PASSWORD
from tests.fixtures.serving import listening


def wait_for_text(driver: WebDriver, text: str) -> None:
    WebDriverWait(driver, PAGE_SECONDS).until(
        expected_conditions.text_to_be_present_in_element((By.TAG_NAME, "body"), text)
    )


def sign_in(driver: WebDriver, base_url: str, login: str, password: str) -> None:
    driver.get(f"{base_url}/admin/")
    WebDriverWait(driver, PAGE_SECONDS).until(expected_conditions.url_contains("/admin/login"))
    driver.find_element(By.ID, "login").send_keys(login)
    driver.find_element(By.ID, "password").send_keys(password)
    click(driver, By.ID, "sign-in")


def click(driver: WebDriver, by: str, value: str) -> None:
    """Click an element as a user would, after scrolling it into the middle of the window."""
    element = driver.find_element(by, value)
    driver.execute_script(
        "arguments[0].scrollIntoView({block: 'center', behavior: 'instant'});", element
    )
    WebDriverWait(driver, PAGE_SECONDS).until(expected_conditions.element_to_be_clickable(element))
    element.click()


def refused(driver: WebDriver) -> str:
    return driver.find_element(By.ID, "login-error").text


def suspend_through_the_page(driver: WebDriver, base_url: str, target: uuid.UUID) -> str:
    """The administrator's way through the page; the audit row's text."""
    sign_in(driver, base_url, "pleb", PASSWORD)
    assert "Only active administrators" in refused(driver)
    sign_in(driver, base_url, "chief", "not the password")
    assert "The login or password is incorrect." in refused(driver)

    sign_in(driver, base_url, "chief", PASSWORD)
    WebDriverWait(driver, PAGE_SECONDS).until(expected_conditions.url_to_be(f"{base_url}/admin/"))
    driver.get(f"{base_url}/admin/user/list")
    driver.find_element(By.ID, "search-input").send_keys("mallory")
    click(driver, By.ID, "search-button")
    WebDriverWait(driver, PAGE_SECONDS).until(expected_conditions.url_contains("search=mallory"))
    details = f"{base_url}/admin/user/details/{target}"
    click(driver, By.CSS_SELECTOR, f"a[href='{details}']")

    WebDriverWait(driver, PAGE_SECONDS).until(expected_conditions.url_to_be(details))
    click(driver, By.LINK_TEXT, "Suspend")
    wait_for_text(driver, "Suspended accounts cannot sign in")
    click(driver, By.ID, "confirm-decision")
    WebDriverWait(driver, PAGE_SECONDS).until(expected_conditions.url_to_be(details))
    wait_for_text(driver, "SUSPENDED")

    driver.get(f"{base_url}/admin/audit-log-entry/list")
    row = driver.find_element(By.XPATH, f"//tr[td[contains(., '{target}')]]")
    return str(row.text)


async def test_an_administrator_finds_and_suspends_a_user_and_sees_the_audit_row(
    settings: Settings, runtime: Runtime, session: AsyncSession
) -> None:
    admin = await make_account(session, role=UserRole.ADMIN, username="chief")
    await make_account(session, role=UserRole.MODERATOR, username="pleb")
    mallory = await make_account(session, username="mallory")
    await make_account(session, username="bystander")

    with headless_chromium() as driver:
        async with listening(create_app(settings, runtime=runtime)) as base_url:
            audit_row = await asyncio.to_thread(
                suspend_through_the_page, driver, base_url, mallory.id
            )

    assert "user.update" in audit_row
    assert "SUSPENDED" in audit_row
    assert (await reload(session, mallory)).status is UserStatus.SUSPENDED
    entry = await session.scalar(select(AuditLogEntry).where(AuditLogEntry.target_id == mallory.id))
    await session.commit()
    assert entry is not None
    assert (entry.actor_id, entry.action) == (admin.id, "user.update")
