/**
 * The sign-in box in the top bar: paste a bearer token, see whose it is
 * (name and role from GET /api/me), sign out. The token stays in localStorage.
 */
import { ApiError } from '../api.ts'
import type { Auth } from '../auth.ts'
import type { I18n } from '../i18n.ts'
import { h } from './dom.ts'

export function renderSignIn(root: HTMLElement, auth: Auth, i18n: I18n): () => void {
  let open = false
  let error: string | null = null
  let busy = false
  const t = i18n.t.bind(i18n)

  const render = (): void => {
    const me = auth.me
    const button = h('button', { type: 'button', class: 'signin-button', 'data-testid': 'signin-toggle', 'aria-expanded': String(open) },
      me ? `${me.name} · ${me.role_name}` : t('auth.signIn'))
    button.addEventListener('click', () => {
      open = !open
      error = null
      render()
    })
    const children: HTMLElement[] = [button]
    if (open) {
      const box = h('div', { class: 'signin-box', 'data-testid': 'signin-box' })
      if (me) {
        box.append(
          h('p', {}, t('auth.signedInAs', { name: me.name, role: me.role_name })),
          me.org_name ? h('p', { class: 'hint' }, me.org_name) : '',
          h('button', { type: 'button', 'data-testid': 'signout', onclick: () => { auth.signOut(); open = false; render() } }, t('auth.signOut')),
        )
      } else {
        const input = h('input', { type: 'password', name: 'token', autocomplete: 'off', spellcheck: 'false', placeholder: 'wg_…', 'data-testid': 'token', 'aria-label': t('auth.token') })
        const form = h('form', { class: 'signin-form' },
          h('label', {}, t('auth.token'), input),
          h('p', { class: 'hint' }, t('auth.hint')),
          h('button', { type: 'submit', class: 'primary', 'data-testid': 'signin', disabled: busy }, busy ? t('auth.checking') : t('auth.signIn')),
          error ? h('p', { class: 'note error', role: 'alert', 'data-testid': 'signin-error' }, error) : '',
        )
        form.addEventListener('submit', (ev) => {
          ev.preventDefault()
          busy = true
          render()
          auth.signIn(input.value).then(() => {
            open = false
            error = null
          }, (err: unknown) => {
            error = err instanceof ApiError && err.status === 401 ? t('auth.invalid') : t('error.generic', { message: err instanceof Error ? err.message : String(err) })
          }).finally(() => {
            busy = false
            render()
          })
        })
        box.append(form)
        setTimeout(() => input.focus(), 0)
      }
      children.push(box)
    }
    root.replaceChildren(...children)
  }
  auth.onChange(render)
  render()
  return render
}
